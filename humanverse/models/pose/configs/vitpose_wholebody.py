# ViTPose-H whole-body (COCO-WholeBody, 133 keypoints) for mmpose 1.1, written by humanverse.
#
# mmpose ships no ViTPose whole-body config, so this one mirrors the ViTPose repo's
# configs/wholebody/.../coco-wholebody/ViTPose_huge_wholebody_256x192.py in mmpose 1.x terms:
#   - backbone: mmpretrain's ViT (as mmpose's own ViTPose configs use), patch padding 2, no class token;
#   - head: 2 deconvolutions of 256 channels + 1x1 conv to 133 heatmaps at 64x48;
#   - codec: MSRAHeatmap (the published whole-body weights were trained WITHOUT UDP, unlike mmpose's
#     COCO ViTPose configs) and flip test with shift_heatmap=True, as the original test_cfg.
# humanverse.models.pose.vitpose_config overrides the backbone arch and head widths for ViTPose-B and the
# tiny test model. init_cfg=None: weights come from the published checkpoint, converted on load.
default_scope = "mmpose"

codec = dict(type="MSRAHeatmap", input_size=(192, 256), heatmap_size=(48, 64), sigma=2)

model = dict(
    type="TopdownPoseEstimator",
    data_preprocessor=dict(
        type="PoseDataPreprocessor", mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375], bgr_to_rgb=True
    ),
    backbone=dict(
        type="mmpretrain.VisionTransformer",
        arch="huge",
        img_size=(256, 192),
        patch_size=16,
        qkv_bias=True,
        drop_path_rate=0.0,
        with_cls_token=False,
        out_type="featmap",
        patch_cfg=dict(padding=2),
        init_cfg=None,
    ),
    head=dict(
        type="HeatmapHead",
        in_channels=1280,
        out_channels=133,
        deconv_out_channels=(256, 256),
        deconv_kernel_sizes=(4, 4),
        loss=dict(type="KeypointMSELoss", use_target_weight=True),
        decoder=codec,
    ),
    test_cfg=dict(flip_test=True, flip_mode="heatmap", shift_heatmap=True),
)

dataset_type = "CocoWholeBodyDataset"
test_pipeline = [
    dict(type="LoadImage"),
    dict(type="GetBBoxCenterScale", padding=1.25),
    dict(type="TopdownAffine", input_size=codec["input_size"]),
    dict(type="PackPoseInputs"),
]
train_dataloader = dict(
    dataset=dict(type=dataset_type, metainfo=dict(from_file="configs/_base_/datasets/coco_wholebody.py"))
)
test_dataloader = dict(
    dataset=dict(
        type=dataset_type,
        metainfo=dict(from_file="configs/_base_/datasets/coco_wholebody.py"),
        pipeline=test_pipeline,
        test_mode=True,
    )
)
