/* SPDX-License-Identifier: Apache-2.0 */
/* What model/expect.c (typing expectations) and model/expect_eval.c (judging them) share. */
#ifndef KPSIM_EXPECT_PRIVATE_H
#define KPSIM_EXPECT_PRIVATE_H

#include <glib.h>

/* Joins a char* array as "a, b" ("" when empty). (transfer full) */
char *expect_join(const GPtrArray *list);

/* Orders char** elements of a GPtrArray by their text (a GCompareFunc for g_ptr_array_sort). */
gint expect_compare_strings(gconstpointer a, gconstpointer b);

#endif
