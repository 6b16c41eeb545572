/* This is a generated file, edit the .stub.php file instead.
 * Stub hash: e9b88735bce0c098ed9f78670ec8fecc4f6db35c */

ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(arginfo_vault_metadata_fetch_batch, 0, 1, IS_ARRAY, 0)
	ZEND_ARG_TYPE_INFO(0, video_ids, IS_ARRAY, 0)
	ZEND_ARG_TYPE_INFO_WITH_DEFAULT_VALUE(0, options, IS_ARRAY, 0, "[]")
ZEND_END_ARG_INFO()

#define arginfo_vault_metadata_fetch_batch_detailed arginfo_vault_metadata_fetch_batch

ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(arginfo_vault_metadata_available, 0, 2, _IS_BOOL, 0)
	ZEND_ARG_TYPE_INFO(0, item, IS_ARRAY, 0)
	ZEND_ARG_TYPE_INFO(0, country, IS_STRING, 0)
ZEND_END_ARG_INFO()

ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(arginfo_vault_metadata_prefetch, 0, 1, IS_LONG, 0)
	ZEND_ARG_TYPE_INFO(0, video_ids, IS_ARRAY, 0)
ZEND_END_ARG_INFO()

ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(arginfo_vault_metadata_quota, 0, 0, IS_ARRAY, 0)
ZEND_END_ARG_INFO()

ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(arginfo_vault_metadata_origin_respond, 0, 2, IS_ARRAY, 0)
	ZEND_ARG_TYPE_INFO(0, body, IS_STRING, 0)
	ZEND_ARG_TYPE_INFO(0, content_type, IS_STRING, 0)
	ZEND_ARG_TYPE_INFO_WITH_DEFAULT_VALUE(0, options, IS_ARRAY, 0, "[]")
ZEND_END_ARG_INFO()


ZEND_FUNCTION(vault_metadata_fetch_batch);
ZEND_FUNCTION(vault_metadata_fetch_batch_detailed);
ZEND_FUNCTION(vault_metadata_available);
ZEND_FUNCTION(vault_metadata_prefetch);
ZEND_FUNCTION(vault_metadata_quota);
ZEND_FUNCTION(vault_metadata_origin_respond);


static const zend_function_entry ext_functions[] = {
	ZEND_FE(vault_metadata_fetch_batch, arginfo_vault_metadata_fetch_batch)
	ZEND_FE(vault_metadata_fetch_batch_detailed, arginfo_vault_metadata_fetch_batch_detailed)
	ZEND_FE(vault_metadata_available, arginfo_vault_metadata_available)
	ZEND_FE(vault_metadata_prefetch, arginfo_vault_metadata_prefetch)
	ZEND_FE(vault_metadata_quota, arginfo_vault_metadata_quota)
	ZEND_FE(vault_metadata_origin_respond, arginfo_vault_metadata_origin_respond)
	ZEND_FE_END
};
