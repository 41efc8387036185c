using Diffuse.Configuration;
using Diffuse.Models.Convolutions;
using Diffuse.Models;
using TorchSharp.Modules;
using Xunit;

namespace Diffuse.Tests.Models;

public class FlopCountTests
{
    // One level, one residual block, attention only in the middle: small enough to add up by hand.
    static readonly UNetConfig OneLevel = new()
    {
        ImageSize = 4, BaseChannels = 8, ChannelMult = [1], NumResBlocks = 1, AttentionResolutions = [],
        NumHeads = 1, GroupNormGroups = 4,
    };

    [Fact]
    public void AConvolutionCostsTwoMultiplyAddsPerWeightAndOutputPixel()
    {
        Assert.Equal(2L * 3 * 5 * 3 * 3 * 7 * 6 * 4, FlopCount.Convolution(4, 3, 5, 3, 7, 6));
        var count = FlopCount.UNet2D(OneLevel, 3);
        var convIn = Assert.Single(count.Layers, l => l.Name == "conv_in");
        Assert.Equal(2L * 1 * 8 * 3 * 3 * 4 * 4 * 3, convIn.Flops);
        Assert.Equal(FlopKind.Convolution, convIn.Kind);
    }

    [Fact]
    public void AttentionCountsQkTransposeAndTheValueProduct()
    {
        // [N, C] x [C, N] and [N, N] x [N, C] per image: 2 N^2 C multiply-adds in all, whatever the heads.
        Assert.Equal(2 * 2L * 5 * 49 * 49 * 64, FlopCount.AttentionMatmuls(5, 64, 49));
    }

    [Fact]
    public void TheOneLevelNetworkAddsUpByHand()
    {
        long linear = 2 * 8 * 32 + 2 * 32 * 32;             // time MLP 8 -> 32 -> 32
        long conv88 = 2 * 8 * 8 * 9 * 16, proj = 2 * 32 * 8;  // 3x3 8 -> 8 on 4x4, embedding projection
        long res88 = conv88 + proj + conv88;
        long res168 = 2 * 16 * 8 * 9 * 16 + proj + conv88 + 2 * 16 * 8 * 16; // concat with the skip, 1x1 shortcut
        long attention = 2 * 8 * 24 * 16 + 4 * 16 * 16 * 8 + 2 * 8 * 8 * 16; // to_qkv, QK^T + AV, proj_out
        long convInOut = 2 * (2 * 1 * 8 * 9 * 16);
        long expected = linear + convInOut + res88 + 2 * res88 + attention + 2 * res168;
        Assert.Equal(255_488, expected);
        var count = FlopCount.UNet2D(OneLevel, 1);
        Assert.Equal(expected, count.Total);
        Assert.Equal(linear + 5 * proj, count.Of(FlopKind.Linear)); // five residual blocks
        Assert.Equal(4 * 16 * 16 * 8, count.Of(FlopKind.AttentionMatmul));
    }

    [Theory]
    [InlineData("tiny")]
    [InlineData("small")]
    [InlineData("ddpm-cifar10")]
    public void TheTotalIsTheSumOfItsKinds(string preset)
    {
        var count = FlopCount.UNet2D(UNetConfig.Preset(preset), 64);
        Assert.Equal(count.Layers.Sum(l => l.Flops), count.Total);
        Assert.Equal(count.Total, Enum.GetValues<FlopKind>().Sum(count.Of));
        Assert.All(Enum.GetValues<FlopKind>(), k => Assert.True(count.Of(k) > 0, $"{k} counted nothing"));
        Assert.True(count.Of(FlopKind.Convolution) > 0.8 * count.Total, "the presets are convolution-dominated");
    }

    [Fact]
    public void TheTinyPresetCostsWhatItsDocumentationSays()
    {
        // UNetConfig.Tiny: "about 84 GFLOP per forward pass at batch 256".
        double gflop = FlopCount.UNet2D(UNetConfig.Tiny, 256).Total / 1e9;
        Assert.InRange(gflop, 80, 88);
    }

    [Theory]
    [InlineData("tiny", 328_307_712L)]
    [InlineData("small", 2_209_356_800L)]
    [InlineData("ddpm-cifar10", 12_443_713_536L)]
    public void PresetsCostWhatForwardHooksOnThePyTorchPeerMeasure(string preset, long flopsPerImage)
    {
        // bench/peer/unet.py's forward_flops counts the executed Conv2d and Linear layers by forward hooks
        // (output shapes from a real pass) and the attention products from the tensors: an independent count.
        Assert.Equal(flopsPerImage, FlopCount.UNet2D(UNetConfig.Preset(preset), 1).Total);
    }

    [Theory]
    [InlineData("tiny")]
    [InlineData("small")]
    public void ScalesLinearlyWithBatchAndQuadraticallyWithImageSide(string preset)
    {
        var config = UNetConfig.Preset(preset);
        var one = FlopCount.UNet2D(config, 1);
        Assert.Equal(64 * one.Total, FlopCount.UNet2D(config, 64).Total);
        var twice = FlopCount.UNet2D(config, 1, imageSize: 2 * config.ImageSize);
        Assert.Equal(4 * one.Of(FlopKind.Convolution), twice.Of(FlopKind.Convolution));
        Assert.Equal(16 * one.Of(FlopKind.AttentionMatmul), twice.Of(FlopKind.AttentionMatmul)); // N^2 tokens
        Assert.Equal(one.Of(FlopKind.Linear), twice.Of(FlopKind.Linear));
        Assert.InRange((double)twice.Total / one.Total, 3.9, 4.5);
    }

    public static TheoryData<string> Configs => new(["tiny", "small", "ddpm-cifar10", "one level", "pooling", "scale-shift with classes", "odd"]);

    static UNetConfig Named(string name) => name switch
    {
        "one level" => OneLevel,
        "pooling" => OneLevel with { ChannelMult = [1, 2], ResamplingWithConv = false, AttentionResolutions = [4] },
        "scale-shift with classes" => UNetConfig.Tiny with { ScaleShift = true, NumClasses = 10 },
        "odd" => OneLevel with { ImageSize = 12, ChannelMult = [3, 1, 5], NumResBlocks = 2, AttentionResolutions = [6], GroupNormGroups = 8, NumHeads = 4 },
        _ => UNetConfig.Preset(name),
    };

    [Theory]
    [MemberData(nameof(Configs))]
    public void EveryConvolutionAndLinearLayerOfTheNetworkIsCountedOnceWithItsShape(string name)
    {
        var config = Named(name);
        using var network = new UNet2D(config);
        var layers = FlopCount.UNet2D(config, 2).Layers;
        var counted = layers.Where(l => l.Kind != FlopKind.AttentionMatmul).ToDictionary(l => l.Name);
        int modules = 0;
        foreach (var (moduleName, module) in network.named_modules())
        {
            if (module is SafeConv2d conv)
            {
                var shape = conv.Weight.shape; // [out, in, k, k]
                Assert.True(counted.TryGetValue(moduleName, out var l), $"{moduleName} is not counted");
                Assert.Equal((FlopKind.Convolution, shape[1], shape[0], shape[2]), (l!.Kind, (long)l.In, (long)l.Out, (long)l.Kernel));
                modules++;
            }
            else if (module is Linear linear)
            {
                var shape = linear.weight!.shape; // [out, in]
                Assert.True(counted.TryGetValue(moduleName, out var l), $"{moduleName} is not counted");
                Assert.Equal((FlopKind.Linear, shape[1], shape[0]), (l!.Kind, (long)l.In, (long)l.Out));
                modules++;
            }
            else if (module is AttentionBlock)
            {
                Assert.Contains(layers, l => l.Name == $"{moduleName}.matmuls" && l.Kind == FlopKind.AttentionMatmul);
            }
        }
        Assert.Equal(counted.Count, modules);
    }

    [Fact]
    public void BadArgumentsAreOneLineErrors()
    {
        Assert.Contains("batch", Assert.Throws<DiffuseException>(() => FlopCount.UNet2D(UNetConfig.Tiny, 0)).Message);
        Assert.Throws<DiffuseException>(() => FlopCount.UNet2D(UNetConfig.Tiny, 1, imageSize: 30));
    }
}
