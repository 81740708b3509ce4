"""servicekpi: exact, explainable customer-service KPIs."""
__version__ = "0.1.0"
