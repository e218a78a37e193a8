/*
 * complaintctl — classify, evaluate and check rules offline; send events to,
 * tail decisions from and query a running complaintd.
 *
 * This file only dispatches: each subcommand lives in a ctl_*.c file
 * (ctl.h), and what several of them share in ctl_common.c.
 */
#include <stdio.h>
#include <string.h>

#include "buildinfo.h"
#include "ctl.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: complaintctl COMMAND [options]\n"
            "\n"
            "offline:\n"
            "  classify [FILE] [--rules DIR] [--data-dir DIR] [--config FILE]\n"
            "           [--model MODEL]... [--no-model]\n"
            "                      JSON Lines events in (stdin if no FILE), decisions out\n"
            "  eval CORPUS.jsonl [--rules DIR] [--errors] [--min-micro-f1 X] [--min-action-accuracy X]\n"
            "           [--model MODEL]... [--no-model] [--json]\n"
            "                      precision/recall/F1 per label, action accuracy: rules, model,\n"
            "                      combined side by side (--no-model: without the default model)\n"
            "  train CORPUS.jsonl... --out MODEL [--rules DIR] [--c C,...] [--veto] [--base MODEL]...\n"
            "                      fit the learned layer (one model per label) with liblinear\n"
            "  rules check [DIR]   validate and compile a rule pack\n"
            "  rules export [DIR] FILE   write the compiled regexes, one per line\n"
            "  history CUSTOMER --data-dir DIR   one customer's history as JSON\n"
            "  employee ID --data-dir DIR        abuse received and blaming notes written\n"
            "  forget CUSTOMER --data-dir DIR [--control EP|--config FILE]\n"
            "                                    erase a customer's history, redact their decisions\n"
            "                                    (through the running daemon if it serves DIR)\n"
            "  top --by toxicity|compensation|complaints [--n N] --data-dir DIR\n"
            "                      the customers who take most of the staff's time\n"
            "\n"
            "against a running daemon:\n"
            "  send [FILE] [--ingest ENDPOINT]          publish JSON Lines events\n"
            "  send --acked [FILE] [--ingest-acked EP] [--window N] [--retry-ms MS] [--timeout MS]\n"
            "               [--rate N]\n"
            "                      at-least-once: wait for each event's Ack, re-send the overdue\n"
            "  tail [--publish ENDPOINT] [--action A] [--count N] [--timeout MS] [--from SEQ]\n"
            "                      print decisions as JSON Lines; --from replays the log\n"
            "                      from SEQ first and fills any gap in the live stream\n"
            "  stats [--control ENDPOINT]               counters as JSON\n"
            "  send --nats URL[,URL...] [FILE]          events to a cluster (JetStream publish acks)\n"
            "  tail --nats URL [--count N] [--from SEQ] [--action A] [--timeout MS]\n"
            "                      the cluster's DECISIONS stream as JSON Lines\n"
            "  cluster --nats URL  streams, nodes, partition owners and backlogs (JSON)\n"
            "  keygen FILE         a CURVE key pair (0600); prints the public key\n"
            "\n"
            "network commands take --curve-server-key KEY --curve-key-file FILE for a daemon\n"
            "that requires CURVE\n"
            "  stats --watch [--interval MS] [--count N] [--control ENDPOINT]\n"
            "                      totals and rates per second, refreshed like top\n"
            "  ping [--control ENDPOINT]\n"
            "  reload [--control ENDPOINT]              recompile rules, re-read policy\n"
            "  feedback FILE.jsonl [--control ENDPOINT] managers' reviews (event_id, customer_id,\n"
            "                      text, labels, action, reviewer); bad lines named, exit 2\n"
            "  retrain [--control ENDPOINT]             retrain the local model from the feedback\n"

            "\n"
            "  --version           the version and git commit of this build\n");
}

int main(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? CTL_USAGE : 0;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "version") == 0) {
        buildinfo_print(stdout, "complaintctl");
        return 0;
    }
    argc--;
    argv++;
    if (strcmp(cmd, "cluster") == 0 ||
        ((strcmp(cmd, "send") == 0 || strcmp(cmd, "tail") == 0) && ctl_nats_wanted(argc, argv)))
        return ctl_nats_main(cmd, argc, argv);
    if (strcmp(cmd, "classify") == 0)
        return cmd_classify(argc, argv);
    if (strcmp(cmd, "eval") == 0)
        return cmd_eval(argc, argv);
    if (strcmp(cmd, "rules") == 0)
        return cmd_rules(argc, argv);
    if (strcmp(cmd, "send") == 0)
        return cmd_send(argc, argv);
    if (strcmp(cmd, "tail") == 0)
        return cmd_tail(argc, argv);
    if (strcmp(cmd, "stats") == 0)
        return cmd_stats(argc, argv);
    if (strcmp(cmd, "feedback") == 0)
        return cmd_feedback(argc, argv);
    if (strcmp(cmd, "ping") == 0 || strcmp(cmd, "reload") == 0 || strcmp(cmd, "retrain") == 0)
        return cmd_control(argc, argv);
    if (strcmp(cmd, "history") == 0)
        return cmd_history(argc, argv);
    if (strcmp(cmd, "employee") == 0)
        return cmd_employee(argc, argv);
    if (strcmp(cmd, "forget") == 0)
        return cmd_forget(argc, argv);
    if (strcmp(cmd, "top") == 0)
        return cmd_top(argc, argv);
    if (strcmp(cmd, "keygen") == 0)
        return cmd_keygen(argc, argv);
    if (strcmp(cmd, "train") == 0)
        return cmd_train(argc, argv);
    fprintf(stderr, "complaintctl: unknown command '%s'\n", cmd);
    usage(stderr);
    return CTL_USAGE;
}
