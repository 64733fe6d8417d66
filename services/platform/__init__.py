"""Code shared by every Coffee Order process: settings, database, Kafka, errors, auth, metrics."""
