"""A station's WhatsApp groups: kept, reconciled with the roster, and planned by village."""
