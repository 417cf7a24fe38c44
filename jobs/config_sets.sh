# Sourced by jobs/chain.sh and jobs/run_local.sh: the configs and run directories of one
# pretrain → mt_train → finetune → evaluate chain. Usage: vlmt_config_set real|synthetic
# Sets PRETRAIN_CONFIG, MT_CONFIG, FINETUNE_CONFIG (run files), MT_CKPT (the multi-task model the
# fine-tuning starts from and the evaluation scores), FINETUNE_DIR (parent of per-task run dirs)
# and CHAIN_TASKS (the tasks fine-tuned, in the paper's Table 2 order). MT_CONFIG may be preset
# by the caller (e.g. configs/gt_g1.toml); then MT_CKPT follows its run_dir only if given too.
source slurm/lib_step.sh  # VLMT_ALL_TASKS (callers run from the repository root)

vlmt_config_set() {
  case "$1" in
    real)
      PRETRAIN_CONFIG=configs/pretrain_cc.toml
      MT_CONFIG=${MT_CONFIG:-configs/at.toml}
      MT_CKPT=${MT_CKPT:-checkpoints/at/latest.h5}
      FINETUNE_CONFIG=configs/finetune.toml
      FINETUNE_DIR=checkpoints/finetune ;;
    synthetic)
      PRETRAIN_CONFIG=configs/synthetic/pretrain.toml
      MT_CONFIG=${MT_CONFIG:-configs/synthetic/at.toml}
      MT_CKPT=${MT_CKPT:-checkpoints/synthetic/at/latest.h5}
      FINETUNE_CONFIG=configs/synthetic/finetune.toml
      FINETUNE_DIR=checkpoints/synthetic/finetune ;;
    *) echo "unknown config set '$1' (real | synthetic)" >&2; return 2 ;;
  esac
  CHAIN_TASKS=${TASKS:-$VLMT_ALL_TASKS}
  for f in "$PRETRAIN_CONFIG" "$MT_CONFIG" "$FINETUNE_CONFIG"; do
    if [ ! -f "$f" ]; then
      echo "config set $1: $f not found (run from the repository root)" >&2; return 2
    fi
  done
}
