#!/bin/sh
# Makes CA rollover certificates (RFC 7030 4.1.3; RFC 4210 4.4 root key
# update) next to a PKI made by mkpki.sh in DIR, for rollover_cert_path.
# Leaves everything mkpki.sh wrote as it was.
#
# Usage: mkrollover.sh DIR
#
# Writes:
#   rollover-g2.pem     a new root with a new name ("... root G2"):
#                       NewWithNew, OldWithNew, NewWithOld
#   rollover-same.pem   a new root key under the old name (every
#                       certificate self-issued): the same three
#   rollover-inter.pem  a new intermediate (new key) from the old root
#   rollover-noca.pem   a client certificate (not a CA)
#   rollover-alien.pem  the foreign CA (self-signed, unrelated)
#   rollover-aliensub.pem  a sub-CA of the foreign CA (unrelated)
#   root2.key root3.key inter2.key  the new keys
set -eu

dir=$1
OPENSSL=${OPENSSL:-openssl}
cd "$dir"
umask 077

root_subj="/O=microca test/CN=microca test root"
g2_subj="/O=microca test/CN=microca test root G2"

cat > rollover.cnf <<'EOT'
[ req ]
distinguished_name = dn
[ dn ]
[ newroot ]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[ link ]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[ inter ]
basicConstraints = critical, CA:TRUE, pathlen:0
keyUsage = critical, keyCertSign, cRLSign, digitalSignature
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
EOT

ec() {
	"$OPENSSL" genpkey -algorithm EC -pkeyopt ec_paramgen_curve:"$1" \
	    -out "$2" 2>/dev/null
}

# cert KEY SUBJ CACERT CAKEY SECTION OUT: KEY's public key under SUBJ,
# signed by CAKEY with CACERT's name as issuer.
cert() {
	"$OPENSSL" req -new -key "$1" -subj "$2" -config rollover.cnf \
	    -out rollover.csr
	"$OPENSSL" x509 -req -in rollover.csr -CA "$3" -CAkey "$4" \
	    -set_serial "0x$("$OPENSSL" rand -hex 8)" -extfile rollover.cnf \
	    -extensions "$5" -days 3650 -sha384 -out "$6" 2>/dev/null
}

selfsigned() { # KEY SUBJ OUT
	"$OPENSSL" req -new -x509 -key "$1" -subj "$2" -config rollover.cnf \
	    -extensions newroot -days 7300 -sha384 -out "$3"
}

# A new root under a new name. OldWithNew: the old key, signed by the
# new one; NewWithOld: the new key, signed by the old one.
ec P-384 root2.key
selfsigned root2.key "$g2_subj" r2-newwithnew.pem
cert root.key "$root_subj" r2-newwithnew.pem root2.key link r2-oldwithnew.pem
cert root2.key "$g2_subj" root.pem root.key link r2-newwithold.pem
cat r2-newwithnew.pem r2-oldwithnew.pem r2-newwithold.pem > rollover-g2.pem

# A new root key under the old name: all three are self-issued.
ec P-384 root3.key
selfsigned root3.key "$root_subj" r3-newwithnew.pem
cert root.key "$root_subj" r3-newwithnew.pem root3.key link r3-oldwithnew.pem
cert root3.key "$root_subj" root.pem root.key link r3-newwithold.pem
cat r3-newwithnew.pem r3-oldwithnew.pem r3-newwithold.pem > rollover-same.pem

# A new intermediate from the same root, for clients to have early.
ec P-256 inter2.key
cert inter2.key "/O=microca test/CN=microca test intermediate G2" \
    root.pem root.key inter rollover-inter.pem

# What must be refused.
cp boot.pem rollover-noca.pem
cp foreign-ca.pem rollover-alien.pem
ec P-256 foreign-sub.key
cert foreign-sub.key "/O=somebody else/CN=foreign sub CA" foreign-ca.pem \
    foreign-ca.key inter rollover-aliensub.pem

rm -f rollover.csr
chmod 644 ./*.pem
exit 0
