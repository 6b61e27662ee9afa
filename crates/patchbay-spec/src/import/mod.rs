//! Importers: formats other than Power Platform packages, turned into the connector model.
