"""SMS provider adapters on the providers' maintained SDKs (plain Python, no Django): Aliyun Dysmsapi
(`alibabacloud-dysmsapi20170525`) and Tencent Cloud SMS (`tencentcloud-sdk-python-sms`). Each adapter sends one
templated message and can look a message up by the id Galleria gave it (Aliyun OutId / Tencent SessionContext), so a
retry after a timeout does not send it twice. Failures are `SmsProviderError`s classified as retryable or final
(`base.classify`). Galleria's side (settings, templates, the outbox) is in galleria/messaging/sms.py."""
