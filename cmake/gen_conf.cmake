# Writes OUT, the package's /etc/complaintd/complaintd.conf: the output of
# `complaintd --print-config` (every key, its help and its default) with
# the package's two paths. Run as cmake -P by the package_conf target, so the
# file always matches the binary it ships with.
execute_process(COMMAND "${EXE}" --print-config --data-dir "${DATA_DIR}" --rules "${RULES_DIR}"
                OUTPUT_VARIABLE conf RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "${EXE} --print-config failed (${rc})")
endif()
set(head "# /etc/complaintd/complaintd.conf: generated at build time from\n")
string(APPEND head "# `complaintd --print-config --data-dir ${DATA_DIR} --rules ${RULES_DIR}`.\n")
string(APPEND head "# Edit freely (a conffile: upgrades keep your changes and offer the new one).\n")
string(APPEND head "# Check it with: complaintd --check-config --config /etc/complaintd/complaintd.conf\n")
string(APPEND head "# Apply it with: systemctl reload complaintd (policy and rules; endpoints,\n")
string(APPEND head "# threads and the store's settings need systemctl restart complaintd).\n#\n")
file(WRITE "${OUT}" "${head}${conf}")
