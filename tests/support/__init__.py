"""Code the tests share: factories, servers and peers they run against."""
