dnl The phpize / PECL build of vault_metadata. The developer build (with the C++ unit
dnl tests) is CMakeLists.txt; both compile the same sources.

PHP_ARG_ENABLE([vault_metadata],
  [whether to enable vault_metadata],
  [AS_HELP_STRING([--enable-vault_metadata], [Enable the vault_metadata extension])],
  [yes])

if test "$PHP_VAULT_METADATA" != "no"; then
  PHP_REQUIRE_CXX()
  PKG_PROG_PKG_CONFIG
  PKG_CHECK_MODULES([VAULT_METADATA_DEPS], [libuv >= 1.40 libcurl >= 7.80 sqlite3 >= 3.35 msgpack >= 3 simdjson >= 1])
  PHP_EVAL_INCLINE($VAULT_METADATA_DEPS_CFLAGS)
  PHP_EVAL_LIBLINE($VAULT_METADATA_DEPS_LIBS, VAULT_METADATA_SHARED_LIBADD)
  PHP_ADD_LIBRARY(stdc++, 1, VAULT_METADATA_SHARED_LIBADD)
  PHP_ADD_LIBRARY(pthread, 1, VAULT_METADATA_SHARED_LIBADD)
  PHP_SUBST(VAULT_METADATA_SHARED_LIBADD)

  vault_metadata_sources=`cd "$ext_srcdir" && echo ext/*.cpp src/*.cpp`
  PHP_NEW_EXTENSION(vault_metadata, $vault_metadata_sources, $ext_shared, ,
    [-std=c++20 -fvisibility=hidden -I@ext_srcdir@/src -I@ext_srcdir@/stubs -I@ext_srcdir@/ext], cxx)
  PHP_ADD_BUILD_DIR([$ext_builddir/ext])
  PHP_ADD_BUILD_DIR([$ext_builddir/src])
fi
