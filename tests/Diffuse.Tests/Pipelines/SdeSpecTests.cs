using Diffuse.Configuration;
using Diffuse.Process;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Diffuse.Tests.Pipelines;

/// <summary>The "sde" section of config.json: its JSON, its checks, and how it reads a network as a score.</summary>
public class SdeSpecTests
{
    /// <summary>
    /// The optimal noise predictor for data N(0, s^2 I) at time t, seen through the network's inputs (c_in x_t, 999 t):
    /// E[z | x_t] = sigma x_t / (m^2 s^2 + sigma^2).
    /// </summary>
    internal static Func<Tensor, Tensor, Tensor> GaussianDenoiser(SdeSpec spec, Sde sde, double s) => (input, labels) =>
    {
        var times = labels.to(ScalarType.Float64).data<double>().ToArray();
        var factors = times.Select(label =>
        {
            double t = label / SdeSpec.TimeLabelScale, m = sde.MeanScale(t), sigma = sde.MarginalStd(t);
            return sigma / (m * m * s * s + sigma * sigma) / spec.InputScale(sigma);
        }).ToArray();
        return input * tensor(factors, input.dtype).reshape(-1, 1);
    };

    [Theory]
    [InlineData(SdeType.Vp)]
    [InlineData(SdeType.SubVp)]
    [InlineData(SdeType.Ve)]
    public void TheOptimalDenoiserOfGaussianDataGivesTheAnalyticScore(SdeType type)
    {
        var spec = new SdeSpec { Type = type };
        var sde = spec.CreateSde(100);
        const double s = 0.7;
        var score = spec.Score(GaussianDenoiser(spec, sde, s), sde);
        using var g = new Generator(5);
        foreach (var t in new[] { 1e-3, 0.1, 0.5, 1.0 })
        {
            using var scope = NewDisposeScope();
            double m = sde.MeanScale(t), sigma = sde.MarginalStd(t), variance = m * m * s * s + sigma * sigma;
            var x = randn([16, 2], ScalarType.Float64, generator: g) * Math.Sqrt(variance);
            var expected = -x / variance;
            var actual = score(x, t);
            Assert.True(allclose(actual, expected, rtol: 1e-5, atol: 1e-9), $"{type} at t = {t}");
        }
    }

    [Fact]
    public void TheNetworkSeesUnitScaleInputsUnderTheVeSdeAndRawOnesUnderVp()
    {
        foreach (var (type, t) in new[] { (SdeType.Ve, 0.9), (SdeType.Vp, 0.9) })
        {
            var spec = new SdeSpec { Type = type };
            var sde = spec.CreateSde();
            Tensor? seen = null, labels = null;
            var score = spec.Score((input, l) => { seen = input.clone().DetachFromDisposeScope(); labels = l.clone().DetachFromDisposeScope(); return zeros_like(input); }, sde);
            using var x = ones(4, 3) * 10;
            using var _ = score(x, t);
            double expected = type == SdeType.Ve ? 10 / Math.Sqrt(1 + sde.MarginalStd(t) * sde.MarginalStd(t)) : 10;
            Assert.Equal(expected, seen!.mean().item<float>(), 1e-4);
            Assert.Equal(ScalarType.Float32, labels!.dtype);
            Assert.Equal([4L], labels.shape);
            Assert.Equal(999 * 0.9, labels[0].item<float>(), 1e-3);
        }
    }

    [Fact]
    public void TheScoreIsDifferentiableInX()
    {
        var spec = new SdeSpec { Type = SdeType.Ve };
        var sde = spec.CreateSde();
        using var x = randn(3, 2).requires_grad_(true);
        var score = spec.Score((input, _) => input.square(), sde);
        score(x, 0.5).sum().backward();
        Assert.NotNull(x.grad);
        Assert.True(x.grad!.abs().sum().item<float>() > 0);
    }

    [Fact]
    public void CreateSdeBuildsTheNamedSdeWithItsParametersAndSteps()
    {
        var vp = Assert.IsType<VpSde>(new SdeSpec { BetaMin = 0.2, BetaMax = 10 }.CreateSde(50));
        Assert.Equal((0.2, 10.0, 50), (vp.BetaMin, vp.BetaMax, vp.DiscreteSteps));
        var sub = Assert.IsType<SubVpSde>(new SdeSpec { Type = SdeType.SubVp }.CreateSde());
        Assert.Equal(1000, sub.DiscreteSteps);
        var ve = Assert.IsType<VeSde>(new SdeSpec { Type = SdeType.Ve, SigmaMin = 0.02, SigmaMax = 20 }.CreateSde(10));
        Assert.Equal((0.02, 20.0, 10), (ve.SigmaMin, ve.SigmaMax, ve.DiscreteSteps));
    }

    static readonly string[] Keys = ["type", "beta_min", "beta_max", "sigma_min", "sigma_max", "eps", "discrete_steps"];

    [Fact]
    public void AnSdeConfigRoundTripsThroughJsonWithSnakeCaseNames()
    {
        var config = new ModelConfig { Sde = new SdeSpec { Type = SdeType.SubVp, BetaMin = 0.2, BetaMax = 12, Eps = 1e-4, DiscreteSteps = 500 } };
        var json = config.ToJson();
        Assert.Contains("\"sde\": {", json);
        Assert.Contains("\"type\": \"subvp\"", json);
        foreach (var key in Keys) Assert.Contains($"\"{key}\":", json);
        var back = ModelConfig.FromJson(json, "config.json");
        Assert.Equal(config.Sde, back.Sde);
        Assert.Equal(json, back.ToJson());
        Assert.Equal(config.Fingerprint(), back.Fingerprint());
        Assert.NotEqual(new ModelConfig().Fingerprint(), config.Fingerprint());
        Assert.Equal(SdeType.Ve, ModelConfig.FromJson(json.Replace("\"subvp\"", "\"ve\""), "c").Sde!.Type);
    }

    [Fact]
    public void ADiscreteConfigWritesNoSdeKeyAndKeepsItsFingerprint()
    {
        // The fingerprints of these configs before SDE models existed (commit 8af4b84).
        var points = new ModelConfig();
        var images = new ModelConfig { Model = null, Unet = UNetConfig.Preset("tiny") };
        Assert.DoesNotContain("sde", points.ToJson());
        Assert.DoesNotContain("sde", images.ToJson());
        Assert.Equal("5c5296b3bfb39db4", points.Fingerprint());
        Assert.Equal("6e9f3abc62ab781a", images.Fingerprint());
        Assert.Null(ModelConfig.FromJson(points.ToJson(), "config.json").Sde);
    }

    [Theory]
    [InlineData("""{"type": "vq"}""", "sde.type")]
    [InlineData("""{"type": "vp", "beta_min": 0}""", "beta_min")]
    [InlineData("""{"type": "subvp", "beta_min": 5, "beta_max": 1}""", "sub-VP SDE needs 0 < beta_min <= beta_max")]
    [InlineData("""{"type": "ve", "sigma_min": 1, "sigma_max": 1}""", "sigma_min < sigma_max")]
    [InlineData("""{"type": "ve", "sigma_max": "Infinity"}""", "sigma_max")]
    [InlineData("""{"eps": 0}""", "eps")]
    [InlineData("""{"eps": 0.5}""", "eps")]
    [InlineData("""{"discrete_steps": 1}""", "at least 2")]
    [InlineData("""{"sigma": 1}""", "sigma")]
    public void BadSdeSectionsAreOneLineErrors(string sde, string expected)
    {
        // The tested keys over a whole section: every key of "sde" is required (issue 20).
        var section = System.Text.Json.JsonSerializer.SerializeToNode(new SdeSpec(), Diffuse.IO.Json.Options)!.AsObject();
        foreach (var (key, value) in System.Text.Json.Nodes.JsonNode.Parse(sde)!.AsObject()) section[key] = value?.DeepClone();
        var json = new ModelConfig().ToJson().TrimEnd().TrimEnd('}') + $", \"sde\": {section.ToJsonString()} }}";
        var e = Assert.Throws<DiffuseException>(() => ModelConfig.FromJson(json, "config.json"));
        Assert.Contains(expected, e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void AnSdeModelRefusesLearnedVariancesTheHybridLossLossAwareTimestepsAndOtherPredictions()
    {
        var sde = new SdeSpec();
        var image = new ModelConfig
        {
            Model = null, Unet = UNetConfig.Preset("tiny") with { OutChannels = 2 },
            Data = new DataSpec { Dim = 784, Mean = [], Image = new ImageSpec { Channels = 1, Height = 28, Width = 28 } },
            Scheduler = new SchedulerConfig { VarianceType = VarianceType.LearnedRange },
            Training = new TrainingSpec { Loss = LossWeighting.Hybrid }, Sde = sde,
        };
        Assert.Contains("variance_type learned_range", Assert.Throws<DiffuseException>(image.Validate).Message);
        var points = new ModelConfig { Sde = sde };
        points.Validate();
        Assert.Contains("hybrid", Assert.Throws<DiffuseException>((points with { Training = new TrainingSpec { Loss = LossWeighting.Hybrid } }).Validate).Message);
        Assert.Contains("loss-aware", Assert.Throws<DiffuseException>((points with { Training = new TrainingSpec { TimestepSampler = TimestepSampling.LossAware } }).Validate).Message);
        Assert.Contains("v_prediction", Assert.Throws<DiffuseException>((points with { Scheduler = new SchedulerConfig { PredictionType = PredictionType.VPrediction } }).Validate).Message);
        // The likelihood weighting is for SDE models only.
        (points with { Training = new TrainingSpec { Loss = LossWeighting.Likelihood } }).Validate();
        Assert.Contains("likelihood", Assert.Throws<DiffuseException>(new ModelConfig { Training = new TrainingSpec { Loss = LossWeighting.Likelihood } }.Validate).Message);
    }

    [Fact]
    public void CreateSdeRefusesTooFewSteps() =>
        Assert.Contains("at least 2 steps", Assert.Throws<DiffuseException>(() => new SdeSpec().CreateSde(1)).Message);
}
