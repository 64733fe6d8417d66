"""The CASE-numbered acceptance suite (UAT): black-box checks of the whole system through its ingress."""
