"""Odoo Order Poller: confirmed Odoo sale orders to StockMaster as signed webhooks."""

__version__ = "0.1.0"
