"""Routing suggestions: the labelled accuracy set, the accuracy report and the latency benchmark."""
