using Diffuse.Configuration;
using Diffuse.Models;
using Diffuse.Models.Convolutions;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Diffuse.Tests.Models.Convolutions;

/// <summary>
/// Each U-Net preset at 8×8 (its channels, blocks and attention as they are; dropout off) in float32 and bfloat16
/// against the same network in float64: the output of a forward pass and the gradients of one training step's loss,
/// with the allocator poisoned with NaN first.
/// </summary>
public class UNetAgainstFloat64Tests
{
    static UNetConfig Small(string preset) => UNetConfig.Preset(preset) with { ImageSize = 8, AttentionResolutions = [4], Dropout = 0 };

    static UNet2D Build(UNetConfig config)
    {
        var model = new UNet2D(config);
        using var generator = new Generator(3);
        Initialization.Reset(model, generator); // every convolution random, the zero-initialised ones included
        using var _ = no_grad();
        using var g = new Generator(4);
        foreach (var p in model.parameters()) p.add_(randn(p.shape, generator: g) * 0.05);
        return model;
    }

    static double Relative(Tensor value, Tensor reference) =>
        (value.to(ScalarType.Float64) - reference).norm().item<double>() / Math.Max(reference.norm().item<double>(), 1e-30);

    [Theory]
    [InlineData("tiny", ScalarType.Float32)]
    [InlineData("tiny", ScalarType.BFloat16)]
    [InlineData("small", ScalarType.Float32)]
    [InlineData("small", ScalarType.BFloat16)]
    [InlineData("ddpm-cifar10", ScalarType.Float32)]
    [InlineData("ddpm-cifar10", ScalarType.BFloat16)]
    public void ForwardAndTrainingGradientsMatchTheFloat64Network(string preset, ScalarType dtype)
    {
        var config = Small(preset);
        using var model = Build(config);
        using var reference = Build(config);
        reference.to(ScalarType.Float64);
        model.to(dtype);

        using var scope = NewDisposeScope();
        var x = randn([2, config.InChannels, 8, 8], generator: new Generator(5)).to(dtype);
        var t = tensor(new long[] { 3, 700 });
        var target = randn([2, config.OutChannels, 8, 8], generator: new Generator(6)).to(dtype);

        var expected = reference.forward(x.to(ScalarType.Float64), t);
        ((expected - target.to(ScalarType.Float64)).square().mean()).backward();

        AllocatorPoison.Fill();
        var output = model.forward(x, t);
        ((output.to(ScalarType.Float32) - target.to(ScalarType.Float32)).square().mean()).backward();

        // float32 kernels agree with float64 to about 1e-6; bfloat16 carries 8 bits through every layer.
        double tolerance = dtype == ScalarType.BFloat16 ? 0.1 : 1e-4;
        double outputError = Relative(output, expected);
        Assert.True(outputError < tolerance, $"{preset} {dtype}: output off by {outputError} (relative)");

        var expectedGradients = reference.named_parameters().ToDictionary(p => p.name, p => p.parameter.grad!);
        double worst = 0;
        string worstName = "";
        foreach (var (name, p) in model.named_parameters())
        {
            var reference64 = expectedGradients[name];
            if (reference64.norm().item<double>() < 1e-12) continue; // unused rows (none in these networks)
            double error = Relative(p.grad!, reference64);
            if (!(error <= worst)) (worst, worstName) = (error, name);
        }
        Assert.True(worst < (dtype == ScalarType.BFloat16 ? 0.25 : 1e-3), $"{preset} {dtype}: gradient of {worstName} off by {worst} (relative)");
    }
}
