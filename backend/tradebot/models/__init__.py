"""Every table of the SaaS, one module per domain.

The tables sit below every domain (as polar keeps them), so any repository may read or join any
table without the domains importing each other: billing counts bots and runs to decide what a
plan still allows, and the migrations see every table, without a cycle.
"""
