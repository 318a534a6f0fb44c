//! The topology language: YAML files in OVN's words, loaded with source spans.
