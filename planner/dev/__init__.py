"""Developer tools: the demo data set and the benchmark. Nothing in the app imports them."""
