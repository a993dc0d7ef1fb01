"""Built-in seeders, one module per group of services; importing a module registers its seeders."""
