"""The reference agency client: reads ``tickets:<agency>``, acks, posts feedback."""

from gateway.agency.consumer import AgencyConsumer, Delivery

__all__ = ["AgencyConsumer", "Delivery"]
