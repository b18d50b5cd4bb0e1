"""The fleet producer: a deterministic unicorn simulator and a PutRecords sender (``wildrydes produce``)."""
