"""A throwaway certificate authority for TLS tests, made with Debian's openssl: a CA and server
certificates for one IP address signed by it (EC P-256, valid two days), in a test's own folder.

Tests trust the CA explicitly (a CA file, or Chromium's SPKI allow-list); nothing is installed.
"""

import base64
import os
import subprocess

EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes']


def _openssl(folder, *args, stdin=None):
    return subprocess.run(['openssl', *args], cwd=folder, input=stdin, check=True,
                          capture_output=True, timeout=60).stdout


class Pki:
    """CA files in folder: ca.pem (trust this) and ca.key."""

    def __init__(self, folder, ip='127.0.0.1', name='roomcast test CA'):
        self.folder = folder
        self.ip = ip
        _openssl(folder, 'req', '-x509', *EC, '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2',
                 '-subj', f'/CN={name}', '-addext', 'basicConstraints=critical,CA:TRUE',
                 '-addext', 'keyUsage=critical,keyCertSign')
        with open(os.path.join(folder, 'server-ext.cnf'), 'w') as f:
            f.write(f'subjectAltName=IP:{ip}\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n')

    @property
    def ca(self):
        return os.path.join(self.folder, 'ca.pem')

    def server(self, stem):
        """Makes STEM.pem and STEM.key for the CA's IP address; returns their paths."""
        _openssl(self.folder, 'req', *EC, '-keyout', f'{stem}.key', '-out', f'{stem}.csr',
                 '-subj', f'/CN=roomcast {stem}')
        _openssl(self.folder, 'x509', '-req', '-in', f'{stem}.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key',
                 '-CAcreateserial', '-out', f'{stem}.pem', '-days', '2', '-extfile', 'server-ext.cnf')
        return os.path.join(self.folder, f'{stem}.pem'), os.path.join(self.folder, f'{stem}.key')

    def der(self, stem):
        """The certificate STEM.pem in DER, as a TLS client sees it."""
        return _openssl(self.folder, 'x509', '-in', f'{stem}.pem', '-outform', 'der')

    def spki_sha256(self, stem):
        """Base64 SHA-256 of STEM.pem's public key: Chromium's --ignore-certificate-errors-spki-list."""
        pub = _openssl(self.folder, 'x509', '-in', f'{stem}.pem', '-pubkey', '-noout')
        der = _openssl(self.folder, 'pkey', '-pubin', '-outform', 'der', stdin=pub)
        return base64.b64encode(_openssl(self.folder, 'dgst', '-sha256', '-binary', stdin=der)).decode()
