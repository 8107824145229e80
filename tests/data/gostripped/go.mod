module gostripped

go 1.19
