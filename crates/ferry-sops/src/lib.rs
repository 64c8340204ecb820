//! SOPS decryption with age and PGP keys, byte-exact with what sops writes.
