/*
 * The layer table. Sources, and how each size was derived:
 *
 * DCGAN generator, 64x64 images (Radford, Metz, Chintala 2016; the PyTorch
 * examples/dcgan Generator with nz = 100, ngf = 64, nc = 3). Every
 * ConvTranspose2d there has bias=False:
 *   nz=100 -> 512, k4 s1 p0 on the 1x1 latent   ->  4x4
 *   512 -> 256, 256 -> 128, 128 -> 64, k4 s2 p1 ->  8x8, 16x16, 32x32
 *   64 -> 3,   k4 s2 p1                          -> 64x64 image
 *   The two channel-heavy middle layers also run at batch 16 (a training
 *   minibatch; DCGAN trains with 64-128, 16 keeps the run short).
 *
 * U-Net (Ronneberger, Fischer, Brox 2015, Fig. 1: 572x572 input, unpadded
 * 3x3 convolutions, "2x2 up-convolution that halves the number of feature
 * channels"; k2 s2 p0, with bias). The up-conv inputs are the bottom/decoder
 * feature maps after their two valid 3x3 convolutions:
 *   1024 ->  512 on  28x28  ->  56x56
 *    512 ->  256 on  52x52  -> 104x104
 *    256 ->  128 on 100x100 -> 200x200
 *    128 ->   64 on 196x196 -> 392x392
 *
 * FCN (Long, Shelhamer, Darrell 2015; the Caffe voc-fcn8s / voc-fcn32s
 * net.py: Deconvolution num_output=21, bias_term=False, no pad, cropping
 * done by a separate Crop layer). PASCAL VOC 500x500 input with conv1_1
 * pad=100 gives score_fr 16x16:
 *   FCN-8s upscore2        21 -> 21, k4  s2  on 16x16 ->  34x34
 *   FCN-8s upscore_pool4   21 -> 21, k4  s2  on 34x34 ->  70x70
 *   FCN-8s upscore8        21 -> 21, k16 s8  on 70x70 -> 568x568 (crop 31 -> 500)
 *   FCN-32s upscore        21 -> 21, k64 s32 on 16x16 -> 544x544 (crop 19 -> 500)
 *
 * FSRCNN (Dong, Loy, Tang 2016) for x3 super-resolution, d = 56: the last
 * layer is a 9x9 deconvolution 56 -> 1 with stride 3; in the common PyTorch
 * port padding = 9 // 2 = 4 and output_padding = scale - 1 = 2, so a 100x100
 * low-resolution input gives exactly 300x300. With bias.
 *
 * CycleGAN / pix2pix ResnetGenerator (Zhu, Park, Isola, Efros 2017;
 * junyanz/pytorch-CycleGAN-and-pix2pix, resnet_9blocks, ngf = 64, 256x256
 * images; InstanceNorm, so use_bias = True): the two decoder up-samplers
 * ConvTranspose2d(k3, s2, p1, output_padding=1):
 *   256 -> 128 on  64x64  -> 128x128
 *   128 ->  64 on 128x128 -> 256x256
 *
 * pix2pix U-Net generator (Isola, Zhu, Zhou, Efros 2017;
 * junyanz/pytorch-CycleGAN-and-pix2pix, unet_256, ngf = 64, 256x256 images,
 * BatchNorm, so use_bias = False except the outermost layer). Each
 * UnetSkipConnectionBlock's upconv is ConvTranspose2d(inner_nc * 2,
 * outer_nc, k4, s2, p1) on the decoder feature map concatenated with the
 * skip connection:
 *   1024 -> 512 on   4x4   ->   8x8   (an ngf*8 block)
 *   1024 -> 256 on  16x16  ->  32x32
 *    256 ->  64 on  64x64  -> 128x128
 *    128 ->   3 on 128x128 -> 256x256 (outermost, with bias)
 *
 * ENet (Paszke, Chaurasia, Kim, Culurciello 2016, Table 1: 512x512 input;
 * davidtvs/PyTorch-ENet, bias=False). The upsampling bottlenecks' extension
 * branch has ConvTranspose2d(internal, internal, k2, s2) with internal =
 * in/4 (internal_ratio 4): bottleneck4.0 (128 -> 64) has 32
 * internal channels on 64x64, bottleneck5.0 (64 -> 16) has 16 on 128x128.
 * The last layer "fullconv" is ConvTranspose2d(16, classes, k3, s2, p1)
 * with output_padding 1 (PyTorch-ENet passes output_size), 256x256 ->
 * 512x512; 19 Cityscapes classes.
 *
 * Mask R-CNN mask head (He, Gkioxari, Dollar, Girshick 2017, Fig. 4 right;
 * detectron2 MaskRCNNConvUpsampleHead): 14x14 RoI features, 256 channels,
 * ConvTranspose2d(256, 256, k2, s2) with bias -> 28x28, per RoI; batch 16
 * RoIs (detectron2 keeps up to 100 detections per image at test time).
 *
 * YOLOv8-seg proto (ultralytics Proto(c1, c_, c2): cv1, then
 * ConvTranspose2d(c_, c_, 2, 2, 0, bias=True), cv2, cv3). Segment's npr =
 * 256 is scaled by the model's width: 64 for yolov8n-seg; on the P3 map of
 * a 640x640 image, 80x80 -> 160x160.
 *
 * The seed example of the tconv issues: MATLAB's transposedConv2dLayer(11,
 * 96, 'Stride', 4) (11x11 filters, 96 filters, stride 4, no cropping). No
 * model is named, so it is applied to AlexNet's conv1 output, 96 channels
 * at 55x55, which it maps back to AlexNet's 227x227 input size.
 */
#include "layers.h"

/* name, model, N, C, H, W, F, k, s, padding, output_padding, groups, bias */
const bench_layer bench_layers[] = {
    {"dcgan_100_512", "DCGAN G: latent nz=100 -> 512x4x4", 1, 100, 1, 1, 512, 4, 1, 0, 0, 1, 0},
    {"dcgan_512_256", "DCGAN G: 512x4x4 -> 256x8x8", 1, 512, 4, 4, 256, 4, 2, 1, 0, 1, 0},
    {"dcgan_256_128", "DCGAN G: 256x8x8 -> 128x16x16", 1, 256, 8, 8, 128, 4, 2, 1, 0, 1, 0},
    {"dcgan_128_64", "DCGAN G: 128x16x16 -> 64x32x32", 1, 128, 16, 16, 64, 4, 2, 1, 0, 1, 0},
    {"dcgan_64_3", "DCGAN G: 64x32x32 -> 3x64x64 image", 1, 64, 32, 32, 3, 4, 2, 1, 0, 1, 0},
    {"dcgan_512_256_b16", "DCGAN G: 512x4x4 -> 256x8x8, batch 16", 16, 512, 4, 4, 256, 4, 2, 1, 0, 1, 0},
    {"dcgan_256_128_b16", "DCGAN G: 256x8x8 -> 128x16x16, batch 16", 16, 256, 8, 8, 128, 4, 2, 1, 0, 1, 0},
    {"dcgan_64_3_b16", "DCGAN G: 64x32x32 -> 3x64x64 image, batch 16", 16, 64, 32, 32, 3, 4, 2, 1, 0, 1, 0},

    {"unet_1024_512", "U-Net up-conv 2x2: 1024x28x28 -> 512x56x56", 1, 1024, 28, 28, 512, 2, 2, 0, 0, 1, 1},
    {"unet_512_256", "U-Net up-conv 2x2: 512x52x52 -> 256x104x104", 1, 512, 52, 52, 256, 2, 2, 0, 0, 1, 1},
    {"unet_256_128", "U-Net up-conv 2x2: 256x100x100 -> 128x200x200", 1, 256, 100, 100, 128, 2, 2, 0, 0, 1, 1},
    {"unet_128_64", "U-Net up-conv 2x2: 128x196x196 -> 64x392x392", 1, 128, 196, 196, 64, 2, 2, 0, 0, 1, 1},

    {"fcn8s_upscore2", "FCN-8s upscore2: 21x16x16 -> 21x34x34", 1, 21, 16, 16, 21, 4, 2, 0, 0, 1, 0},
    {"fcn8s_upscore_pool4", "FCN-8s upscore_pool4: 21x34x34 -> 21x70x70", 1, 21, 34, 34, 21, 4, 2, 0, 0, 1, 0},
    {"fcn8s_upscore8", "FCN-8s upscore8: 21x70x70 -> 21x568x568", 1, 21, 70, 70, 21, 16, 8, 0, 0, 1, 0},
    {"fcn32s_upscore", "FCN-32s upscore: 21x16x16 -> 21x544x544", 1, 21, 16, 16, 21, 64, 32, 0, 0, 1, 0},

    {"fsrcnn_56_1", "FSRCNN x3 deconv: 56x100x100 -> 1x300x300", 1, 56, 100, 100, 1, 9, 3, 4, 2, 1, 1},

    {"cyclegan_256_128", "CycleGAN/pix2pix resnet G: 256x64x64 -> 128x128x128", 1, 256, 64, 64, 128, 3, 2, 1, 1, 1, 1},
    {"cyclegan_128_64", "CycleGAN/pix2pix resnet G: 128x128x128 -> 64x256x256", 1, 128, 128, 128, 64, 3, 2, 1, 1, 1, 1},

    {"pix2pix_1024_512", "pix2pix U-Net G: 1024x4x4 -> 512x8x8", 1, 1024, 4, 4, 512, 4, 2, 1, 0, 1, 0},
    {"pix2pix_1024_256", "pix2pix U-Net G: 1024x16x16 -> 256x32x32", 1, 1024, 16, 16, 256, 4, 2, 1, 0, 1, 0},
    {"pix2pix_256_64", "pix2pix U-Net G: 256x64x64 -> 64x128x128", 1, 256, 64, 64, 64, 4, 2, 1, 0, 1, 0},
    {"pix2pix_128_3", "pix2pix U-Net G: 128x128x128 -> 3x256x256 image", 1, 128, 128, 128, 3, 4, 2, 1, 0, 1, 1},

    {"enet_up4_32", "ENet bottleneck4.0 ext. branch: 32x64x64 -> 32x128x128", 1, 32, 64, 64, 32, 2, 2, 0, 0, 1, 0},
    {"enet_up5_16", "ENet bottleneck5.0 ext. branch: 16x128x128 -> 16x256x256", 1, 16, 128, 128, 16, 2, 2, 0, 0, 1, 0},
    {"enet_fullconv_16_19", "ENet fullconv: 16x256x256 -> 19x512x512 (Cityscapes)", 1, 16, 256, 256, 19, 3, 2, 1, 1, 1, 0},

    {"maskrcnn_mask_256", "Mask R-CNN mask head: 16 RoIs 256x14x14 -> 256x28x28", 16, 256, 14, 14, 256, 2, 2, 0, 0, 1, 1},

    {"yolov8n_seg_proto", "YOLOv8n-seg Proto: 64x80x80 -> 64x160x160", 1, 64, 80, 80, 64, 2, 2, 0, 0, 1, 1},

    {"seed_k11_f96_s4", "seed example transposedConv2dLayer(11,96,Stride=4): 96x55x55 -> 96x227x227", 1, 96, 55, 55, 96, 11, 4, 0, 0, 1, 1},
};

const size_t bench_layer_count = sizeof bench_layers / sizeof bench_layers[0];

int64_t bench_layer_out(int64_t in, const bench_layer *l)
{
    return (in - 1) * l->stride - 2 * l->padding + l->kernel + l->out_pad;
}

double bench_layer_flops(const bench_layer *l, int64_t n)
{
    return 2.0 * (double)n * (double)l->channels * (double)l->filters * (double)l->in_h *
           (double)l->in_w * (double)l->kernel * (double)l->kernel / (double)l->groups;
}
