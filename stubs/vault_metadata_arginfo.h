/* This is a generated file, edit the .stub.php file instead.
 * Stub hash: 4dba6bc8e259eb47240c6c01ded14a29a40b75aa */

ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(arginfo_vault_metadata_fetch_batch, 0, 1, IS_ARRAY, 0)
	ZEND_ARG_TYPE_INFO(0, video_ids, IS_ARRAY, 0)
	ZEND_ARG_TYPE_INFO_WITH_DEFAULT_VALUE(0, options, IS_ARRAY, 0, "[]")
ZEND_END_ARG_INFO()

#define arginfo_vault_metadata_fetch_batch_detailed arginfo_vault_metadata_fetch_batch

ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(arginfo_vault_metadata_available, 0, 2, _IS_BOOL, 0)
	ZEND_ARG_TYPE_INFO(0, item, IS_ARRAY, 0)
	ZEND_ARG_TYPE_INFO(0, country, IS_STRING, 0)
ZEND_END_ARG_INFO()


ZEND_FUNCTION(vault_metadata_fetch_batch);
ZEND_FUNCTION(vault_metadata_fetch_batch_detailed);
ZEND_FUNCTION(vault_metadata_available);


static const zend_function_entry ext_functions[] = {
	ZEND_FE(vault_metadata_fetch_batch, arginfo_vault_metadata_fetch_batch)
	ZEND_FE(vault_metadata_fetch_batch_detailed, arginfo_vault_metadata_fetch_batch_detailed)
	ZEND_FE(vault_metadata_available, arginfo_vault_metadata_available)
	ZEND_FE_END
};
