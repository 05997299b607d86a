"""Chinese commercial cryptography for the platform (商用密码).

- ``sm3``: SM3 hash and HMAC-SM3 (GB/T 32905).
- ``sm4``: SM4-GCM authenticated encryption (GB/T 32907, GCM per NIST SP 800-38D).
- ``sm2``: SM2 keys, signatures and encryption (GB/T 32918) through OpenSSL 3's libcrypto.
- ``keys``: versioned master keys for field encryption and blind indexes.
- ``kat``: the standards' known-answer tests, run by ``smartgov crypto selftest``.
"""
