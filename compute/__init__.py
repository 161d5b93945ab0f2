"""Plain ASE code: calculator loading and benchmark task functions. No Django here."""
