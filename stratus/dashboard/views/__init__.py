"""The dashboard's pages, one module per panel group (as Horizon's dashboards/project/<panel>/views.py)."""
