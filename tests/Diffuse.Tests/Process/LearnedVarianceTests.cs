using Diffuse.Process;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Diffuse.Tests.Process;

public class LearnedVarianceTests
{
    [Fact]
    public void APredictionThenVarianceOutputSplitsIntoItsHalves()
    {
        using var scope = NewDisposeScope();
        var output = arange(2 * 6 * 2 * 2, dtype: ScalarType.Float32).reshape(2, 6, 2, 2);
        Assert.True(LearnedVariance.HasVarianceChannels(output, 3));
        var (prediction, variance) = LearnedVariance.Split(output, 3);
        Assert.True(prediction.equal(output[.., ..3]).all().item<bool>());
        Assert.True(variance.equal(output[.., 3..]).all().item<bool>());
        Assert.True(LearnedVariance.Prediction(output, 3).equal(output[.., ..3]).all().item<bool>());
        // a prediction-only output is its own prediction, and has nothing to split
        var plain = output[.., ..3];
        Assert.False(LearnedVariance.HasVarianceChannels(plain, 3));
        Assert.Same(plain, LearnedVariance.Prediction(plain, 3));
        Assert.Contains("twice the sample's 3 channels, got 3", Assert.Throws<DiffuseException>(() => LearnedVariance.Split(plain, 3)).Message);
    }

    [Fact]
    public void AGuidedPredictionKeepsTheModelsVarianceChannels()
    {
        using var scope = NewDisposeScope();
        var output = randn(2, 4, 3, 3);
        var guided = zeros(2, 2, 3, 3);
        var joined = LearnedVariance.WithVarianceOf(guided, output, 2);
        Assert.Equal(new long[] { 2, 4, 3, 3 }, joined.shape);
        Assert.True(joined[.., ..2].equal(guided).all().item<bool>());
        Assert.True(joined[.., 2..].equal(output[.., 2..]).all().item<bool>());
        Assert.Same(guided, LearnedVariance.WithVarianceOf(guided, output[.., ..2], 2));
    }
}
