"""Tenants: one district per tenant, and everything that keeps their data apart."""
