/* device.h: the device codes (利用デバイス) of users' certificates and their words. */
#ifndef SHOMEI_DEVICE_H
#define SHOMEI_DEVICE_H

/* The label of a device code: WindowsPC, iOS(iPhone), iOS(iPad), Android, その他; NULL if unknown.
 */
const char *device_label(const char *code, int lang);

/* Validators (web/valid.h's shape): one code (01 11 12 20 99), a comma list of codes. */
int device_valid_code(const char *v);
int device_valid_list(const char *v);

#endif
