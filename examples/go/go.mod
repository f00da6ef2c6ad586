module github.com/cudago/cudago/examples/go

go 1.23

require github.com/cudago/cudago/go v0.0.0

replace github.com/cudago/cudago/go => ../../go
