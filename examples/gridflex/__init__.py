"""A small energy-flexibility service: the example fmperf is demonstrated on."""
