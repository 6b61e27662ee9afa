//! Contoso Tasks sample API (being written).
