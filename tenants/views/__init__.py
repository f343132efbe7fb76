"""Console pages for tenants and partners: `lists` (tenants, partners), `detail` (the
seven-tab tenant page and its actions), `overview` (the console's home)."""
