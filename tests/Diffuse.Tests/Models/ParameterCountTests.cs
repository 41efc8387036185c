using Diffuse.Configuration;
using Diffuse.Models;
using Xunit;

namespace Diffuse.Tests.Models;

/// <summary>Issue 20: a network's size is known from its config before it is built, exactly.</summary>
public class ParameterCountTests
{
    static readonly UNetConfig Micro = new()
    {
        InChannels = 2, OutChannels = 2, ImageSize = 8, BaseChannels = 8, ChannelMult = [1, 2], NumResBlocks = 1,
        AttentionResolutions = [4], NumHeads = 2, GroupNormGroups = 4,
    };

    static readonly TextEncoderConfig Text = new() { Vocabulary = [.. TextEncoderConfig.SpecialTokens, "a", "b", "c"], MaxLength = 6, Width = 16, Layers = 2, Heads = 2 };

    static readonly Dictionary<string, NetworkConfig> Networks = new()
    {
        ["mlp"] = new MlpConfig(),
        ["mlp without blocks"] = new MlpConfig { InputDim = 5, HiddenDim = 24, Blocks = 0, TimeEmbedDim = 8 },
        ["tiny"] = UNetConfig.Tiny,
        ["small"] = UNetConfig.Small,
        ["micro"] = Micro,
        ["attention everywhere"] = Micro with { AttentionResolutions = [8, 4] },
        ["scale-shift and classes"] = Micro with { ScaleShift = true, NumClasses = 3 },
        ["pooling resampling"] = Micro with { ResamplingWithConv = false },
        ["odd channel mults"] = Micro with { ImageSize = 12, ChannelMult = [3, 1, 5], NumResBlocks = 2, AttentionResolutions = [6], GroupNormGroups = 8, NumHeads = 4 },
        ["learned variance"] = Micro with { OutChannels = 4 },
        ["text"] = Micro with { TextEncoder = Text },
        ["super-resolution with noise levels"] = Micro with { InChannels = 4, NoiseLevelEmbedding = true },
    };

    public static TheoryData<string> Names => new(Networks.Keys);

    [Theory]
    [MemberData(nameof(Names))]
    public void TheCountFromTheConfigIsTheBuiltNetworksStateDict(string name)
    {
        var config = Networks[name];
        using var network = NetworkTypes.Build(config);
        long stateValues = network.state_dict().Values.Sum(v => v.numel());
        Assert.Equal(stateValues, network.ParameterCount());
        Assert.Equal(stateValues, NetworkTypes.Parameters(config));
    }

    [Fact]
    public void TheCifarNetworkIsCountedWithoutBuildingIt() =>
        Assert.Equal(35_746_307L, NetworkTypes.Parameters(UNetConfig.DdpmCifar10));

    [Fact]
    public void AHugeNetworkIsRefusedBeforeItIsBuilt()
    {
        var huge = new MlpConfig { HiddenDim = Limits.Width, Blocks = Limits.Depth };
        var error = Assert.Throws<DiffuseException>(() => NetworkMemory.Check(huge, copies: 2, "x/config.json", "loading it"));
        Assert.StartsWith("x/config.json: its network has 8,", error.Message);
        Assert.Contains("GiB", error.Message);
        NetworkMemory.Check(new MlpConfig(), copies: 6, "x", "training it");
    }
}
