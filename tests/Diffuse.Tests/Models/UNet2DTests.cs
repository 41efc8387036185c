using Diffuse.Configuration;
using System.Text.Json;
using Diffuse.IO;
using Diffuse.Models;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Diffuse.Tests.Models;

public class UNet2DTests
{
    static readonly UNetConfig Micro = new()
    {
        InChannels = 2, OutChannels = 2, ImageSize = 8, BaseChannels = 8, ChannelMult = [1, 2], NumResBlocks = 1,
        AttentionResolutions = [4], NumHeads = 2, GroupNormGroups = 4,
    };

    static readonly UNetConfig MicroClasses = Micro with { NumClasses = 3, ScaleShift = true };

    static readonly Dictionary<string, UNetConfig> Shapes = new()
    {
        ["micro"] = Micro,
        ["no attention but the middle"] = Micro with { AttentionResolutions = [] },
        ["attention everywhere"] = Micro with { AttentionResolutions = [8, 4] },
        ["scale-shift"] = Micro with { ScaleShift = true },
        ["classes"] = MicroClasses,
        ["odd channel mults"] = Micro with { ImageSize = 12, ChannelMult = [3, 1, 5], NumResBlocks = 2, AttentionResolutions = [6], GroupNormGroups = 8, NumHeads = 4 },
        ["one level"] = Micro with { ChannelMult = [2], AttentionResolutions = [] },
        ["pooling resampling"] = Micro with { ResamplingWithConv = false, Dropout = 0.5 },
        ["learned variance"] = Micro with { OutChannels = 4 },
    };

    public static TheoryData<string> ShapeNames => new(Shapes.Keys);

    [Theory]
    [InlineData("tiny", 1_540_681L)]
    [InlineData("small", 6_946_881L)]
    [InlineData("ddpm-cifar10", 35_746_307L)] // Ho et al. 2020's CIFAR-10 model, as in the official count.
    public void PresetsHaveTheirExactParameterCounts(string preset, long expected)
    {
        using var model = new UNet2D(UNetConfig.Preset(preset));
        Assert.Equal(expected, model.ParameterCount());
        Assert.Equal(expected, model.state_dict().Values.Sum(v => v.numel()));
    }

    [Fact]
    public void AnUnknownPresetListsTheValidNames()
    {
        var error = Assert.Throws<DiffuseException>(() => UNetConfig.Preset("huge"));
        foreach (var name in UNetConfig.PresetNames) Assert.Contains(name, error.Message);
        Assert.Equal(new[] { "tiny", "small", "ddpm-cifar10" }, UNetConfig.PresetNames);
    }

    [Fact]
    public void PresetsAreFreshCopies()
    {
        UNetConfig.Preset("tiny").ChannelMult[0] = 99;
        Assert.Equal(1, UNetConfig.Preset("tiny").ChannelMult[0]);
        new UNetConfig().Validate();
    }

    [Theory]
    [MemberData(nameof(ShapeNames))]
    public void OutputHasTheInputsShape(string name)
    {
        var config = Shapes[name];
        using var model = new UNet2D(config);
        using var x = randn(3, config.InChannels, config.ImageSize, config.ImageSize);
        using var t = tensor(new long[] { 0, 10, 999 });
        using var y = model.forward(x, t);
        Assert.Equal(new long[] { 3, config.OutChannels, config.ImageSize, config.ImageSize }, y.shape);
        Assert.True(y.isfinite().all().item<bool>());
    }

    [Theory]
    [InlineData(new long[] { 2, 1, 8, 8 })]
    [InlineData(new long[] { 2, 2, 8, 4 })]
    [InlineData(new long[] { 2, 2, 16, 16 })]
    [InlineData(new long[] { 2, 8, 8 })]
    public void AWrongInputShapeIsAnError(long[] shape)
    {
        using var model = new UNet2D(Micro);
        using var x = zeros(shape);
        using var t = zeros(new long[] { shape[0] }, ScalarType.Int64);
        var error = Assert.Throws<DiffuseException>(() => model.forward(x, t));
        Assert.Contains("[B, 2, 8, 8]", error.Message);
        Assert.Contains($"[{string.Join(", ", shape)}]", error.Message);
    }

    [Fact]
    public void WrongTimestepOrLabelShapesAreErrors()
    {
        using var model = new UNet2D(MicroClasses);
        using var x = zeros(2, 2, 8, 8);
        using var t3 = zeros(new long[] { 3 }, ScalarType.Int64);
        using var t = zeros(new long[] { 2 }, ScalarType.Int64);
        using var tooHigh = tensor(new long[] { 0, 4 });
        Assert.Contains("timesteps of shape [2]", Assert.Throws<DiffuseException>(() => model.forward(x, t3)).Message);
        Assert.Contains("class labels of shape [2]", Assert.Throws<DiffuseException>(() => model.Forward(x, t, t3)).Message);
        Assert.Contains("[0, 3]", Assert.Throws<DiffuseException>(() => model.Forward(x, t, tooHigh)).Message);
        using var unconditional = new UNet2D(Micro);
        Assert.Contains("unconditional", Assert.Throws<DiffuseException>(() => unconditional.Forward(x, t, t)).Message);
    }

    [Fact]
    public void ConfigSurvivesAJsonRoundTrip()
    {
        var config = MicroClasses with { Dropout = 0.25, ResamplingWithConv = false };
        var json = JsonSerializer.Serialize(config, Json.Options);
        foreach (var key in new[] { "\"in_channels\"", "\"base_channels\"", "\"channel_mult\"", "\"num_res_blocks\"", "\"attention_resolutions\"",
                     "\"num_heads\"", "\"scale_shift\"", "\"num_classes\"", "\"group_norm_groups\"", "\"resampling_with_conv\"" })
            Assert.Contains(key, json);
        Assert.DoesNotContain("time_embed_dim", json);
        var back = JsonSerializer.Deserialize<UNetConfig>(json, Json.Options)!;
        Assert.Equal(config.ChannelMult, back.ChannelMult);
        Assert.Equal(config.AttentionResolutions, back.AttentionResolutions);
        Assert.Equal(config, back with { ChannelMult = config.ChannelMult, AttentionResolutions = config.AttentionResolutions });

        var unconditional = JsonSerializer.Deserialize<UNetConfig>(JsonSerializer.Serialize(UNetConfig.DdpmCifar10, Json.Options), Json.Options)!;
        Assert.Null(unconditional.NumClasses);
        Assert.Throws<JsonException>(() => JsonSerializer.Deserialize<UNetConfig>("{\"base_chanels\": 8}", Json.Options));
    }

    public static TheoryData<string, string> BadConfigs => new()
    {
        { "groups", "group_norm_groups 4 must divide" },
        { "size", "divisible by 2^(levels - 1) = 4" },
        { "attention", "attention resolution 3 is never reached" },
        { "heads", "num_heads 3 must divide" },
        { "odd base", "base_channels must be even" },
        { "no levels", "channel_mult needs at least one level" },
        { "dropout", "dropout must lie in [0, 1)" },
        { "classes", "num_classes must be at least 1" },
        { "blocks", "num_res_blocks must be at least 1" },
        { "type", "not a U-Net" },
    };

    [Theory]
    [MemberData(nameof(BadConfigs))]
    public void ValidateRejectsBadConfigs(string what, string message)
    {
        var config = what switch
        {
            "groups" => Micro with { BaseChannels = 6 },
            "size" => Micro with { ImageSize = 10, ChannelMult = [1, 2, 2] },
            "attention" => Micro with { AttentionResolutions = [3] },
            "heads" => Micro with { NumHeads = 3 },
            "odd base" => Micro with { BaseChannels = 7 },
            "no levels" => Micro with { ChannelMult = [] },
            "dropout" => Micro with { Dropout = 1 },
            "classes" => Micro with { NumClasses = 0 },
            "blocks" => Micro with { NumResBlocks = 0 },
            _ => Micro with { Type = "mlp" },
        };
        var error = Assert.Throws<DiffuseException>(() => new UNet2D(config));
        Assert.Contains(message, error.Message);
        Assert.DoesNotContain('\n', error.Message);
    }

    static float[] Weights(nn.Module model) =>
        model.parameters().SelectMany(p => p.detach().flatten().data<float>().ToArray()).ToArray();

    static UNet2D Seeded(UNetConfig config, long seed)
    {
        var model = new UNet2D(config);
        using var g = new Generator((ulong)seed);
        model.ResetParameters(g);
        model.eval();
        return model;
    }

    /// <summary>Adds noise to every parameter, so the zero-initialised output layers pass signal and gradients.</summary>
    static UNet2D Perturbed(UNetConfig config, long seed)
    {
        var model = Seeded(config, seed);
        using var g = new Generator((ulong)seed + 1000);
        using var _ = no_grad();
        foreach (var p in model.parameters()) p.add_(randn(p.shape, generator: g) * 0.1);
        return model;
    }

    [Fact]
    public void TheSameSeedGivesTheSameWeightsAndOutputs()
    {
        using var a = Seeded(MicroClasses, 7);
        using var b = Seeded(MicroClasses, 7);
        using var c = Seeded(MicroClasses, 8);
        Assert.Equal(Weights(a), Weights(b));
        Assert.NotEqual(Weights(a), Weights(c));

        using var x = randn(2, 2, 8, 8, generator: new Generator(1));
        using var t = tensor(new long[] { 3, 500 });
        using var pa = Perturbed(MicroClasses, 7);
        using var pb = Perturbed(MicroClasses, 7);
        using var ya = pa.forward(x, t);
        using var yb = pb.forward(x, t);
        Assert.Equal(ya.data<float>().ToArray(), yb.data<float>().ToArray());
    }

    [Fact]
    public void AFreshModelOutputsZeroAndResetKeepsThatAndTheFanInBounds()
    {
        using var fresh = new UNet2D(MicroClasses);
        using var model = Seeded(MicroClasses, 3);
        using var x = randn(2, 2, 8, 8);
        using var t = tensor(new long[] { 3, 500 });
        using var y0 = fresh.forward(x, t);
        using var y1 = model.forward(x, t);
        Assert.Equal(0f, y0.abs().max().item<float>());
        Assert.Equal(0f, y1.abs().max().item<float>());
        foreach (var (name, p) in fresh.named_parameters().Where(p => p.name.Contains("norm")))
            Assert.All(p.detach().flatten().data<float>().ToArray(), v => Assert.Equal(name.EndsWith("weight") ? 1f : 0f, v));

        var parameters = model.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        foreach (var (name, p) in parameters)
        {
            var values = p.detach().flatten().data<float>().ToArray();
            if (name.Contains("norm"))
                Assert.All(values, v => Assert.Equal(name.EndsWith("weight") ? 1f : 0f, v));
            else if (name.Contains("conv2") || name.Contains("proj_out") || name.StartsWith("conv_out"))
                Assert.All(values, v => Assert.Equal(0f, v));
            else if (!name.StartsWith("class_embedding"))
            {
                var w = parameters[name.EndsWith(".bias") ? name[..^".bias".Length] + ".weight" : name];
                long fanIn = w.shape.Skip(1).Aggregate(1L, (a, b) => a * b);
                Assert.All(values, v => Assert.InRange(Math.Abs(v), 0, 1 / Math.Sqrt(fanIn)));
            }
        }
    }

    [Fact]
    public void TheOutputDependsOnTheTimestepAndTheClass()
    {
        using var model = Perturbed(MicroClasses, 5);
        using var x = randn(2, 2, 8, 8, generator: new Generator(2));
        using var t = tensor(new long[] { 10, 10 });
        using var t2 = tensor(new[] { 10f, 11.5f });
        using var labels = tensor(new long[] { 0, 1 });
        using var otherLabels = tensor(new long[] { 2, 1 });
        using var nullLabels = tensor(new long[] { 3, 3 });
        using var y = model.Forward(x, t, labels);
        using var yt = model.Forward(x, t2, labels);
        using var yc = model.Forward(x, t, otherLabels);
        using var yNull = model.forward(x, t);
        using var yNullExplicit = model.Forward(x, t, nullLabels);

        Assert.True(y[0].allclose(yt[0]));
        Assert.False(y[1].allclose(yt[1], 1e-4, 1e-5));
        Assert.False(y[0].allclose(yc[0], 1e-4, 1e-5));
        Assert.True(y[1].allclose(yc[1]));
        Assert.Equal(yNull.data<float>().ToArray(), yNullExplicit.data<float>().ToArray());
        Assert.False(y.allclose(yNull, 1e-4, 1e-5));
    }

    [Fact]
    public void GradientsReachEveryParameter()
    {
        using var model = Perturbed(MicroClasses with { AttentionResolutions = [8, 4] }, 9);
        model.train();
        using var x = randn(2, 2, 8, 8, generator: new Generator(4));
        using var t = tensor(new long[] { 1, 900 });
        using var labels = tensor(new long[] { 0, 3 });
        using var loss = model.Forward(x, t, labels).square().mean();
        loss.backward();
        foreach (var (name, p) in model.named_parameters())
        {
            Assert.True(p.grad is not null, $"{name} has no gradient");
            if (name.StartsWith("class_embedding")) continue; // only rows 0 and 3 are used
            Assert.True(p.grad!.abs().sum().item<float>() > 0, $"{name} has a zero gradient");
        }
    }

    [Fact]
    public void StateDictKeysFollowDiffusersNames()
    {
        using var model = new UNet2D(MicroClasses);
        var keys = model.state_dict().Keys.ToHashSet();
        foreach (var key in new[]
                 {
                     "conv_in.weight", "time_embedding.linear_1.weight", "time_embedding.linear_2.bias", "class_embedding.weight",
                     "down_blocks.0.resnets.0.norm1.weight", "down_blocks.0.resnets.0.time_emb_proj.weight",
                     "down_blocks.0.downsamplers.0.conv.weight", "down_blocks.1.resnets.0.conv_shortcut.weight",
                     "down_blocks.1.attentions.0.to_qkv.weight", "mid_block.resnets.1.conv2.weight", "mid_block.attentions.0.proj_out.bias",
                     "up_blocks.0.resnets.1.norm2.bias", "up_blocks.0.upsamplers.0.conv.weight", "conv_norm_out.weight", "conv_out.bias",
                 })
            Assert.Contains(key, keys);
        Assert.DoesNotContain(keys, k => k.Contains("frequencies"));
    }

    [Fact]
    public void RunsInBfloat16()
    {
        using var model = Perturbed(MicroClasses, 6);
        model.to(ScalarType.BFloat16);
        using var x = randn(2, 2, 8, 8).to(ScalarType.BFloat16);
        using var t = tensor(new long[] { 1, 900 });
        using var y = model.forward(x, t);
        Assert.Equal(ScalarType.BFloat16, y.dtype);
        Assert.True(y.isfinite().all().item<bool>());
    }
}
