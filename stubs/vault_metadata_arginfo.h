/* This is a generated file, edit the .stub.php file instead.
 * Stub hash: 0cc3ad0785f8f10ad37ec8812041bcab7fb77cd5 */

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

ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(arginfo_vault_metadata_last_correlation_id, 0, 0, IS_STRING, 1)
ZEND_END_ARG_INFO()

ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(arginfo_vault_metadata_stats, 0, 0, IS_ARRAY, 0)
	ZEND_ARG_TYPE_INFO_WITH_DEFAULT_VALUE(0, minutes, IS_LONG, 0, "1")
ZEND_END_ARG_INFO()

ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(arginfo_vault_metadata_metrics, 0, 0, IS_STRING, 0)
ZEND_END_ARG_INFO()

#define arginfo_vault_metadata_health arginfo_vault_metadata_quota

ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(arginfo_vault_metadata_events, 0, 0, IS_ARRAY, 0)
	ZEND_ARG_TYPE_INFO_WITH_DEFAULT_VALUE(0, correlation_id, IS_STRING, 0, "\"\"")
ZEND_END_ARG_INFO()

ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(arginfo_vault_indexnow_submit, 0, 1, IS_LONG, 0)
	ZEND_ARG_TYPE_INFO(0, urls, IS_ARRAY, 0)
ZEND_END_ARG_INFO()


ZEND_FUNCTION(vault_metadata_fetch_batch);
ZEND_FUNCTION(vault_metadata_fetch_batch_detailed);
ZEND_FUNCTION(vault_metadata_available);
ZEND_FUNCTION(vault_metadata_prefetch);
ZEND_FUNCTION(vault_metadata_quota);
ZEND_FUNCTION(vault_metadata_origin_respond);
ZEND_FUNCTION(vault_metadata_last_correlation_id);
ZEND_FUNCTION(vault_metadata_stats);
ZEND_FUNCTION(vault_metadata_metrics);
ZEND_FUNCTION(vault_metadata_health);
ZEND_FUNCTION(vault_metadata_events);
ZEND_FUNCTION(vault_indexnow_submit);


static const zend_function_entry ext_functions[] = {
	ZEND_FE(vault_metadata_fetch_batch, arginfo_vault_metadata_fetch_batch)
	ZEND_FE(vault_metadata_fetch_batch_detailed, arginfo_vault_metadata_fetch_batch_detailed)
	ZEND_FE(vault_metadata_available, arginfo_vault_metadata_available)
	ZEND_FE(vault_metadata_prefetch, arginfo_vault_metadata_prefetch)
	ZEND_FE(vault_metadata_quota, arginfo_vault_metadata_quota)
	ZEND_FE(vault_metadata_origin_respond, arginfo_vault_metadata_origin_respond)
	ZEND_FE(vault_metadata_last_correlation_id, arginfo_vault_metadata_last_correlation_id)
	ZEND_FE(vault_metadata_stats, arginfo_vault_metadata_stats)
	ZEND_FE(vault_metadata_metrics, arginfo_vault_metadata_metrics)
	ZEND_FE(vault_metadata_health, arginfo_vault_metadata_health)
	ZEND_FE(vault_metadata_events, arginfo_vault_metadata_events)
	ZEND_FE(vault_indexnow_submit, arginfo_vault_indexnow_submit)
	ZEND_FE_END
};
