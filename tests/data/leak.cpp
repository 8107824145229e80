// The C++ counterpart of leak.c for rprof's symbolization tests
// (tests/symbolize_c.rs builds it with g++ -g -O1 -fPIE -pie): mangled
// names in a namespace, a class and a class template. Prints its
// allocation stacks and mappings in leak.c's format.
#include <execinfo.h>
#include <cstdio>
#include <cstring>

void print_maps();

namespace app {

template <typename T> struct Pool {
    __attribute__((noinline)) T *grab(const char *site, size_t n) {
        void *pcs[32];
        int depth = backtrace(pcs, 32); // SITE_LEAF
        std::printf("stack %s %zu", site, n * sizeof(T));
        for (int i = 0; i < depth; i++)
            std::printf(" %p", pcs[i]);
        std::printf("\n");
        return new T[n];
    }
};

class SessionStore {
  public:
    __attribute__((noinline)) void add(int id) {
        kept_[n_++] = pool_.grab("session", 4000 + id - id); // SITE_SESSION
    }
    __attribute__((noinline)) void log(int id) {
        kept_[n_++] = pool_.grab("log", 500 + id - id); // SITE_LOG
    }
    int size() const { return n_; }

  private:
    Pool<char> pool_;
    char *kept_[8] = {};
    int n_ = 0;
};

} // namespace app

int main() {
    app::SessionStore store;
    store.add(1);
    store.log(1);
    print_maps();
    return store.size() == 2 ? 0 : 1;
}

void print_maps() {
    FILE *f = std::fopen("/proc/self/maps", "r");
    char line[4096];
    if (!f)
        return;
    while (std::fgets(line, sizeof line, f)) {
        unsigned long start, end, off, inode;
        char perms[8], dev[16], path[3000];
        path[0] = 0;
        if (std::sscanf(line, "%lx-%lx %7s %lx %15s %lu %2999s", &start, &end, perms, &off, dev,
                        &inode, path) >= 6 &&
            path[0] == '/')
            std::printf("map %lx %lx %lx %s %s\n", start, end, off, perms, path);
    }
    std::fclose(f);
}
