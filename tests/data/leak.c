/* A small leaky C program for rprof's symbolization tests
 * (tests/symbolize_c.rs builds it with gcc -g -O1 -fPIE -pie).
 *
 * It records the call stacks of its allocations with glibc's backtrace(),
 * as a C profiler would, and prints them with the file-backed mappings of
 * /proc/self/maps:
 *     map START END OFFSET PERMS PATH
 *     stack SITE BYTES ADDR ADDR ...      (return addresses, leaf first)
 * The test turns that into an unsymbolized pprof profile. Lines the test
 * looks for are marked SITE_* below. */
#include <execinfo.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *kept[64];
static int nkept;

__attribute__((noinline)) static char *make_buffer(const char *site, size_t n) {
    void *pcs[32];
    int depth = backtrace(pcs, 32); /* SITE_LEAF */
    printf("stack %s %zu", site, n);
    for (int i = 0; i < depth; i++)
        printf(" %p", pcs[i]);
    printf("\n");
    char *p = malloc(n);
    memset(p, 1, n);
    return p;
}

/* Always inlined into new_session: its call shows as an inline frame. */
static inline __attribute__((always_inline)) char *session_name(int id) {
    return make_buffer("name", 1000 + id - id); /* SITE_INLINE */
}

__attribute__((noinline)) void new_session(int id) {
    kept[nkept++] = session_name(id);
    kept[nkept++] = make_buffer("session", 4000); /* SITE_SESSION */
}

__attribute__((noinline)) void log_request(int id) {
    kept[nkept++] = make_buffer("log", 500 + id - id); /* SITE_LOG */
}

__attribute__((noinline)) void handle_request(int id) {
    new_session(id); /* SITE_HANDLE */
    log_request(id);
}

static void print_maps(void) {
    FILE *f = fopen("/proc/self/maps", "r");
    char line[4096];
    if (!f)
        return;
    while (fgets(line, sizeof line, f)) {
        unsigned long start, end, off;
        char perms[8], dev[16], path[3000];
        unsigned long inode;
        path[0] = 0;
        if (sscanf(line, "%lx-%lx %7s %lx %15s %lu %2999s", &start, &end, perms, &off,
                   dev, &inode, path) >= 6 &&
            path[0] == '/')
            printf("map %lx %lx %lx %s %s\n", start, end, off, perms, path);
    }
    fclose(f);
}

int main(void) {
    handle_request(1);
    print_maps();
    return nkept == 3 ? 0 : 1;
}
