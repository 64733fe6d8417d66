"""Makes the control plane's certificate authority, the API server's serving certificate, the admin client
certificate, the service-account key and the kubeconfig, with openssl, under .run/controlplane/pki."""
from __future__ import annotations

import subprocess
from pathlib import Path

from scripts.controlplane.layout import APISERVER_PORT, KUBECONFIG, PKI

SERVER_NAMES = ("DNS:localhost", "DNS:kubernetes", "DNS:kubernetes.default", "DNS:kubernetes.default.svc",
                "DNS:kubernetes.default.svc.cluster.local", "IP:127.0.0.1", "IP:10.96.0.1")


def _openssl(*args: str) -> None:
    subprocess.run(["openssl", *args], check=True, capture_output=True)


def _signed(name: str, subject: str, extensions: str) -> None:
    key, csr, ext = PKI / f"{name}.key", PKI / f"{name}.csr", PKI / f"{name}.ext"
    _openssl("genrsa", "-out", str(key), "2048")
    _openssl("req", "-new", "-key", str(key), "-subj", subject, "-out", str(csr))
    ext.write_text(extensions)
    _openssl("x509", "-req", "-in", str(csr), "-CA", str(PKI / "ca.crt"), "-CAkey", str(PKI / "ca.key"),
             "-CAcreateserial", "-days", "30", "-extfile", str(ext), "-out", str(PKI / f"{name}.crt"))


def make_all() -> None:
    """Everything new: a cluster started again gets new keys (its etcd data is new too)."""
    PKI.mkdir(parents=True, exist_ok=True)
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(PKI / "ca.key"),
             "-out", str(PKI / "ca.crt"), "-days", "30", "-subj", "/CN=coffee-order-local-ca")
    _signed("apiserver", "/CN=kube-apiserver",
            "keyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n"
            f"subjectAltName={','.join(SERVER_NAMES)}\n")
    # One identity in system:masters for the tools and the controllers: a local, single-user control plane.
    _signed("admin", "/O=system:masters/CN=admin",
            "keyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth\n")
    _openssl("genrsa", "-out", str(PKI / "service-account.key"), "2048")
    _openssl("rsa", "-in", str(PKI / "service-account.key"), "-pubout", "-out", str(PKI / "service-account.pub"))
    write_kubeconfig(KUBECONFIG)


def write_kubeconfig(path: Path) -> None:
    path.write_text(f"""apiVersion: v1
kind: Config
clusters:
- name: local
  cluster:
    server: https://127.0.0.1:{APISERVER_PORT}
    certificate-authority: {PKI / "ca.crt"}
users:
- name: admin
  user:
    client-certificate: {PKI / "admin.crt"}
    client-key: {PKI / "admin.key"}
contexts:
- name: coffee-order-local
  context: {{cluster: local, user: admin}}
current-context: coffee-order-local
""")
    path.chmod(0o600)
