"""Support code of the acceptance suite: HTTP, Kafka, the catalog and the report; nothing from services/."""
