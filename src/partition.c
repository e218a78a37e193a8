/* partition — customer tokens, the servers' partition function, and the
 * rebalancing rule; see partition.h. */
#include "partition.h"

#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

static int token_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '_' || c == '-';
}

size_t part_token(const char *id, size_t len, char out[PART_TOKEN_MAX + 1])
{
    int plain = len >= 1 && len <= PART_TOKEN_MAX;
    for (size_t i = 0; plain && i < len; i++)
        plain = token_char((unsigned char)id[i]);
    if (plain) {
        memcpy(out, id, len);
        out[len] = '\0';
        return len;
    }
    /* Anything else (dots, spaces, non-ASCII, too long) would not be one
     * subject token: a digest is. 128 bits keep customers apart. */
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    EVP_Digest(id, len, md, &mdlen, EVP_sha256(), NULL);
    static const char hex[] = "0123456789abcdef";
    for (int i = 0; i < 16; i++) {
        out[2 * i] = hex[md[i] >> 4];
        out[2 * i + 1] = hex[md[i] & 15];
    }
    out[32] = '\0';
    return 32;
}

int part_of_token(const char *token, size_t len, int n_parts)
{
    uint32_t h = 2166136261u;  /* FNV-1a, as nats-server's partition() */
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)token[i];
        h *= 16777619u;
    }
    return (int)(h % (uint32_t)n_parts);
}

int part_of_customer(const char *id, size_t len, int n_parts)
{
    char tok[PART_TOKEN_MAX + 1];
    size_t n = part_token(id, len, tok);
    return part_of_token(tok, n, n_parts);
}

/* A node and how many partitions it holds now (qsort has no context
 * argument, so the count travels with the index). */
typedef struct node_load {
    int count, index;
} node_load;

static int by_load(const void *a, const void *b)
{
    const node_load *x = a, *y = b;
    if (x->count != y->count)
        return y->count - x->count;  /* most partitions first */
    return x->index - y->index;
}

int part_assign(int n_parts, int n_nodes, const int *owner, int *out)
{
    if (n_nodes <= 0) {
        for (int p = 0; p < n_parts; p++)
            out[p] = -1;
        return n_parts;
    }
    int *quota = calloc((size_t)n_nodes, sizeof *quota);
    node_load *load = calloc((size_t)n_nodes, sizeof *load);
    if (!quota || !load)
        abort();  /* a few bytes per node */
    for (int i = 0; i < n_nodes; i++)
        load[i].index = i;
    for (int p = 0; p < n_parts; p++)
        if (owner[p] >= 0 && owner[p] < n_nodes)
            load[owner[p]].count++;
    /* The share is P/N, and one more for P%N of the nodes: the ones that
     * already hold the most, so that the extra ones need not move. */
    qsort(load, (size_t)n_nodes, sizeof *load, by_load);
    for (int k = 0; k < n_nodes; k++)
        quota[load[k].index] = n_parts / n_nodes + (k < n_parts % n_nodes);
    /* Owners keep their lowest-numbered partitions up to their share. */
    for (int p = 0; p < n_parts; p++) {
        int o = owner[p];
        if (o >= 0 && o < n_nodes && quota[o] > 0) {
            out[p] = o;
            quota[o]--;
        } else {
            out[p] = -1;
        }
    }
    /* The rest go, in partition order, to the nodes still below their share. */
    int moved = 0, next = 0;
    for (int p = 0; p < n_parts; p++) {
        if (out[p] >= 0)
            continue;
        while (quota[next] == 0)
            next = (next + 1) % n_nodes;
        out[p] = next;
        quota[next]--;
        next = (next + 1) % n_nodes;
        moved++;
    }
    free(quota);
    free(load);
    return moved;
}
