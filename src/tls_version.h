/* tls_version.h: the module's own version. */
#ifndef TLS_VERSION_H
#define TLS_VERSION_H

#define MOD_TLS_VERSION "0.1.0"
#define MOD_TLS_VERSION_NUM 0x000100

#endif /* TLS_VERSION_H */
