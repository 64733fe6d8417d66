"""The published event contracts: topics, keys, payloads and headers, versioned; producers, consumers and
tests build, serialise and parse events only through these modules."""
