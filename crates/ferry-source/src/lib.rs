//! Sources fetched into verified, content-addressed artifacts (tar.gz + sha256 + revision).
