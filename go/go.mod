module github.com/cudago/cudago/go

go 1.23
