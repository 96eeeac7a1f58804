#!/bin/sh
# Makes a complete test PKI for microca in DIR. Used by the test suites,
# the demo (./quickstart) and the benchmark, so all three run against the
# same shapes of certificate.
#
# Usage: mkpki.sh DIR MODE
#   MODE  file      intermediate key (EC P-256) in DIR/ca.key
#         file-rsa  intermediate key (RSA 2048) in DIR/ca.key
#         hsm-ec    intermediate key (EC P-256) made inside a SoftHSMv2 token
#         hsm-rsa   intermediate key (RSA 2048) made inside a SoftHSMv2 token
#
# Writes:
#   root.pem root.key          offline root (EC P-384)
#   ca.pem [ca.key]            the Micro CA's intermediate, signed by root
#   chain.pem                  ca.pem + root.pem (intermediate_cert_path)
#   softhsm2.conf tokens/      hsm-*: token "microca", user PIN 1234,
#                              key label "microca-ca" (pkcs11.env says so)
#   boot-ca.pem boot-ca.key    bootstrap CA (mtls_ca_cert)
#   boot.pem boot.key          a bootstrap client certificate
#   boot-expired.pem/.key      one that expired in 2021
#   foreign-ca.pem foreign.pem foreign.key   a CA nobody trusts, and its client
#   maker-root.pem             a device maker's root (mtls_ca_cert)...
#   maker-int.pem              ...its intermediate, which issues...
#   maker-dev.pem .key         ...a bootstrap certificate;
#   maker-dev-chain.pem        that one followed by maker-int.pem
#   maker-fake-int.pem         an intermediate with maker-int's name, issued
#                              by a root with maker-root's name, other keys
#   maker-fake.pem .key        a device certificate it issued;
#   maker-fake-chain.pem       that one followed by maker-fake-int.pem
#   server.pem server.key      TLS server certificate for 127.0.0.1/localhost
set -eu

dir=$1
mode=${2:-file}
# The organisation in every name ("microca demo" for ./quickstart).
org=${MKPKI_ORG:-microca test}
OPENSSL=${OPENSSL:-openssl}
module=${SOFTHSM2_MODULE:-}
if [ -z "$module" ]; then
	for m in /usr/lib/softhsm/libsofthsm2.so \
	    /usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so \
	    /usr/local/lib/softhsm/libsofthsm2.so; do
		[ -r "$m" ] && { module=$m; break; }
	done
fi

mkdir -p "$dir"
cd "$dir"
umask 077

ext=exts.cnf
cat > $ext <<'EOT'
[ root ]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[ inter ]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign, digitalSignature
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[ client ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[ server ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1, DNS:localhost
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
EOT

ec() { "$OPENSSL" genpkey -algorithm EC -pkeyopt ec_paramgen_curve:"$1" -out "$2" 2>/dev/null; }

sign() { # csr cakey cacert section days out [pubkey]
	if [ $# -ge 7 ]; then
		"$OPENSSL" x509 -req -in "$1" -CA "$3" -CAkey "$2" -CAcreateserial \
		    -extfile $ext -extensions "$4" -days "$5" -sha256 \
		    -force_pubkey "$7" -out "$6" 2>/dev/null
	else
		"$OPENSSL" x509 -req -in "$1" -CA "$3" -CAkey "$2" -CAcreateserial \
		    -extfile $ext -extensions "$4" -days "$5" -sha256 -out "$6" 2>/dev/null
	fi
}

# openssl req insists on a [req] section in the file it is given.
printf '[ req ]\ndistinguished_name = dn\n[ dn ]\n' > req.cnf
cat $ext >> req.cnf

# offline root, 20 years
ec P-384 root.key
"$OPENSSL" req -new -x509 -key root.key -config req.cnf -extensions root \
    -subj "/O=$org/CN=$org root" -days 7300 -sha384 -out root.pem

inter_subj="/O=$org/CN=$org intermediate"
case "$mode" in
file)
	ec P-256 ca.key
	"$OPENSSL" req -new -key ca.key -subj "$inter_subj" -config req.cnf -out ca.csr
	sign ca.csr root.key root.pem inter 3650 ca.pem
	;;
file-rsa)
	"$OPENSSL" genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out ca.key 2>/dev/null
	"$OPENSSL" req -new -key ca.key -subj "$inter_subj" -config req.cnf -out ca.csr
	sign ca.csr root.key root.pem inter 3650 ca.pem
	;;
hsm-ec|hsm-rsa)
	[ -n "$module" ] || { echo "mkpki: no SoftHSMv2 module found" >&2; exit 1; }
	mkdir -p tokens
	cat > softhsm2.conf <<EOT
directories.tokendir = $(pwd)/tokens
objectstore.backend = file
log.level = ERROR
slots.removable = false
EOT
	SOFTHSM2_CONF=$(pwd)/softhsm2.conf
	export SOFTHSM2_CONF
	softhsm2-util --init-token --free --label microca --pin 1234 --so-pin 123456 >/dev/null
	if [ "$mode" = hsm-ec ]; then kt=EC:prime256v1; else kt=rsa:2048; fi
	pkcs11-tool --module "$module" --token-label microca --login --pin 1234 \
	    --keypairgen --key-type "$kt" --label microca-ca --id 01 >/dev/null
	pkcs11-tool --module "$module" --token-label microca --read-object \
	    --type pubkey --label microca-ca -o ca-pub.der >/dev/null
	"$OPENSSL" pkey -pubin -inform DER -in ca-pub.der -out ca-pub.pem
	# The intermediate's CSR cannot be signed outside the token, so a
	# throw-away key signs a CSR and the certificate gets the token's
	# public key (-force_pubkey).
	ec P-256 throwaway.key
	"$OPENSSL" req -new -key throwaway.key -subj "$inter_subj" -config req.cnf -out ca.csr
	sign ca.csr root.key root.pem inter 3650 ca.pem ca-pub.pem
	rm -f throwaway.key
	cat > pkcs11.env <<EOT
SOFTHSM2_CONF=$(pwd)/softhsm2.conf
MCA_PKCS11_MODULE=$module
MCA_PKCS11_LABEL=microca-ca
MCA_PKCS11_PIN=1234
EOT
	;;
*)
	echo "mkpki: unknown mode $mode" >&2
	exit 2
	;;
esac
cat ca.pem root.pem > chain.pem

# bootstrap CA and a client certificate from it
ec P-256 boot-ca.key
"$OPENSSL" req -new -x509 -key boot-ca.key -config req.cnf -extensions root \
    -subj "/O=$org/CN=bootstrap CA" -days 7300 -sha256 -out boot-ca.pem
client() { # name subj cakey cacert
	ec P-256 "$1.key"
	"$OPENSSL" req -new -key "$1.key" -subj "$2" -config req.cnf -out "$1.csr"
	sign "$1.csr" "$3" "$4" client 365 "$1.pem"
}
client boot "/O=$org/CN=device-boot-001" boot-ca.key boot-ca.pem

# an expired one: openssl ca is the only CLI that takes explicit dates
mkdir -p ca-db && : > ca-db/index.txt && echo 01 > ca-db/serial
cat > ca.cnf <<EOT
[ ca ]
default_ca = boot
[ boot ]
database = ca-db/index.txt
serial = ca-db/serial
new_certs_dir = ca-db
policy = any
default_md = sha256
copy_extensions = none
[ any ]
commonName = supplied
organizationName = optional
EOT
cat $ext >> ca.cnf
ec P-256 boot-expired.key
"$OPENSSL" req -new -key boot-expired.key -subj "/O=$org/CN=device-expired" \
    -config req.cnf -out boot-expired.csr
"$OPENSSL" ca -batch -config ca.cnf -cert boot-ca.pem -keyfile boot-ca.key \
    -startdate 20200101000000Z -enddate 20210101000000Z -extensions client \
    -in boot-expired.csr -out boot-expired.pem 2>/dev/null

# a foreign CA and its client
ec P-256 foreign-ca.key
"$OPENSSL" req -new -x509 -key foreign-ca.key -config req.cnf -extensions root \
    -subj "/O=somebody else/CN=foreign CA" -days 7300 -sha256 -out foreign-ca.pem
client foreign "/O=somebody else/CN=intruder" foreign-ca.key foreign-ca.pem

# A device maker's PKI: bootstrap certificates come from an intermediate
# (root -> intermediate -> device), and a forgery with the same names.
maker() { # prefix: $1-root, $1-int, $1-dev
	ec P-256 "$1-root.key"
	"$OPENSSL" req -new -x509 -key "$1-root.key" -config req.cnf \
	    -extensions root -subj "/O=device maker/CN=device maker root" \
	    -days 7300 -sha256 -out "$1-root.pem"
	ec P-256 "$1-int.key"
	"$OPENSSL" req -new -key "$1-int.key" -config req.cnf \
	    -subj "/O=device maker/CN=device maker issuing CA" -out "$1-int.csr"
	sign "$1-int.csr" "$1-root.key" "$1-root.pem" inter 3650 "$1-int.pem"
	client "$1-dev" "/O=device maker/CN=dev-7001" "$1-int.key" "$1-int.pem"
	cat "$1-dev.pem" "$1-int.pem" > "$1-dev-chain.pem"
}
maker maker
maker fake
mv fake-int.pem maker-fake-int.pem
mv fake-dev.pem maker-fake.pem
mv fake-dev.key maker-fake.key
mv fake-dev-chain.pem maker-fake-chain.pem
rm -f fake-root.* fake-int.key

# TLS server certificate (issued by the test root)
ec P-256 server.key
"$OPENSSL" req -new -key server.key -subj "/O=$org/CN=127.0.0.1" -config req.cnf -out server.csr
sign server.csr root.key root.pem server 825 server.pem

rm -f ./*.csr ./*.srl
chmod 644 ./*.pem
exit 0
