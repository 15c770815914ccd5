function cases = test_validation()
% Every validation error raises its identifier, and its message names the
% argument and the value.
  P = 'tconv:transposedConv2dLayer:';
  D = 'tconv:dltranspconv:';
  S = 'tconv:sgdmupdate:';
  L = @transposedConv2dLayer;
  x = randn(4, 4, 3);
  w = randn(2, 2, 2, 3);
  good = initialize(L(2, 2), [4 4 3], 'Seed', 1);
  cases = {
    % filter size and filters: non-positive, non-integer, wrong length, not numeric
    'filter_size_zero', @() tconv_assert_error(@() L(0, 4), [P 'InvalidFilterSize'], 'FilterSize', '0')
    'filter_size_negative', @() tconv_assert_error(@() L([3 -1], 4), [P 'InvalidFilterSize'], 'FilterSize', '[3 -1]')
    'filter_size_fraction', @() tconv_assert_error(@() L(2.5, 4), [P 'InvalidFilterSize'], 'FilterSize', '2.5')
    'filter_size_three', @() tconv_assert_error(@() L([1 2 3], 4), [P 'InvalidFilterSize'], 'FilterSize', '[1 2 3]')
    'filter_size_text', @() tconv_assert_error(@() L('3', 4), [P 'InvalidFilterSize'], 'FilterSize', '''3''')
    'filter_size_complex', @() tconv_assert_error(@() L(3 + 1i, 4), [P 'InvalidFilterSize'], 'FilterSize')
    'filter_size_nan', @() tconv_assert_error(@() L(NaN, 4), [P 'InvalidFilterSize'], 'FilterSize', 'NaN')
    'num_filters_zero', @() tconv_assert_error(@() L(3, 0), [P 'InvalidNumFilters'], 'NumFilters', '0')
    'num_filters_vector', @() tconv_assert_error(@() L(3, [2 2]), [P 'InvalidNumFilters'], 'NumFilters', '[2 2]')
    'too_few_arguments', @() tconv_assert_error(@() L(3), [P 'NotEnoughInputs'])
    % stride
    'stride_zero', @() tconv_assert_error(@() L(3, 4, 'Stride', 0), [P 'InvalidStride'], 'Stride', '0')
    'stride_three_values', @() tconv_assert_error(@() L(3, 4, 'Stride', [1 2 3]), [P 'InvalidStride'], 'Stride', '[1 2 3]')
    'stride_fraction', @() tconv_assert_error(@() L(3, 4, 'Stride', 1.5), [P 'InvalidStride'], 'Stride', '1.5')
    'stride_inf', @() tconv_assert_error(@() L(3, 4, 'Stride', Inf), [P 'InvalidStride'], 'Stride', 'Inf')
    % cropping
    'cropping_three_values', @() tconv_assert_error(@() L(3, 4, 'Cropping', [1 2 3]), [P 'InvalidCropping'], 'Cropping', '[1 2 3]')
    'cropping_negative', @() tconv_assert_error(@() L(3, 4, 'Cropping', -1), [P 'InvalidCropping'], 'Cropping', '-1')
    'cropping_unknown_text', @() tconv_assert_error(@() L(3, 4, 'Cropping', 'valid'), [P 'InvalidCropping'], 'Cropping', '''valid''')
    'cropping_leaves_no_output', @() tconv_assert_error(@() predict(initialize(L(3, 4, 'Cropping', 5), [2 2 1]), randn(2, 2)), 'tconv:mex:InvalidArgument', 'crop', '10')
    % channels
    'num_channels_zero', @() tconv_assert_error(@() L(3, 4, 'NumChannels', 0), [P 'InvalidNumChannels'], 'NumChannels', '0')
    'num_channels_text', @() tconv_assert_error(@() L(3, 4, 'NumChannels', 'many'), [P 'InvalidNumChannels'], 'NumChannels', '''many''')
    'num_channels_disagree_initialize', @() tconv_assert_error(@() initialize(L(3, 4, 'NumChannels', 5), [4 4 3]), [P 'NumChannelsMismatch'], 'NumChannels', '5', '3')
    'num_channels_disagree_predict', @() tconv_assert_error(@() predict(good, randn(4, 4, 5)), [P 'NumChannelsMismatch'], 'NumChannels', '3', '5')
    % factors
    'weight_learn_rate_negative', @() tconv_assert_error(@() L(3, 4, 'WeightLearnRateFactor', -1), [P 'InvalidWeightLearnRateFactor'], 'WeightLearnRateFactor', '-1')
    'bias_learn_rate_nan', @() tconv_assert_error(@() L(3, 4, 'BiasLearnRateFactor', NaN), [P 'InvalidBiasLearnRateFactor'], 'BiasLearnRateFactor', 'NaN')
    'weight_l2_negative', @() tconv_assert_error(@() L(3, 4, 'WeightL2Factor', -0.5), [P 'InvalidWeightL2Factor'], 'WeightL2Factor', '-0.5')
    'bias_l2_vector', @() tconv_assert_error(@() L(3, 4, 'BiasL2Factor', [1 2]), [P 'InvalidBiasL2Factor'], 'BiasL2Factor', '[1 2]')
    % initializers
    'weights_initializer_unknown', @() tconv_assert_error(@() L(3, 4, 'WeightsInitializer', 'orthogonal'), [P 'InvalidWeightsInitializer'], 'WeightsInitializer', '''orthogonal''')
    'bias_initializer_glorot', @() tconv_assert_error(@() L(3, 4, 'BiasInitializer', 'glorot'), [P 'InvalidBiasInitializer'], 'BiasInitializer', '''glorot''')
    'weights_handle_wrong_size', @() tconv_assert_error(@() initialize(L(3, 4, 'WeightsInitializer', @(sz) zeros(2)), [4 4 3]), [P 'InvalidWeightsInitializer'], 'WeightsInitializer', '[3 3 4 3]')
    % parameters
    'weights_wrong_size', @() tconv_assert_error(@() L(3, 4, 'Weights', randn(3, 3, 5, 2)), [P 'InvalidWeights'], 'Weights', '3x3x5x2')
    'weights_wrong_channels', @() tconv_assert_error(@() L(2, 2, 'NumChannels', 4, 'Weights', w), [P 'InvalidWeights'], 'Weights', '2x2x2x3')
    'weights_complex', @() tconv_assert_error(@() L(2, 2, 'Weights', complex(w)), [P 'InvalidWeights'], 'Weights')
    'weights_text', @() tconv_assert_error(@() L(2, 2, 'Weights', 'abc'), [P 'InvalidWeights'], 'Weights', '''abc''')
    'weights_set_later_wrong_size', @() tconv_assert_error(@() predict(setfield(good, 'Weights', randn(2, 2, 2, 4)), x), [P 'InvalidWeights'], 'Weights')
    'bias_wrong_size', @() tconv_assert_error(@() L(2, 2, 'Bias', zeros(1, 1, 3)), [P 'InvalidBias'], 'Bias', '1x1x3')
    'name_not_text', @() tconv_assert_error(@() L(2, 2, 'Name', 5), [P 'InvalidName'], 'Name', '5')
    'property_set_validates', @() tconv_assert_error(@() setfield(good, 'Stride', 0), [P 'InvalidStride'], 'Stride', '0')
    % name-value syntax
    'unknown_name', @() tconv_assert_error(@() L(3, 4, 'Padding', 1), [P 'UnknownParameter'], '''Padding''')
    'ambiguous_name', @() tconv_assert_error(@() L(3, 4, 'Weight', 1), [P 'AmbiguousParameter'], '''Weight''', 'WeightsInitializer')
    'odd_name_value', @() tconv_assert_error(@() L(3, 4, 'Stride'), [P 'InvalidNameValue'])
    'name_not_text_nv', @() tconv_assert_error(@() L(3, 4, 5, 1), [P 'InvalidParameterName'], '5')
    % running
    'predict_not_initialized', @() tconv_assert_error(@() predict(L(3, 4), x), [P 'NotInitialized'])
    'predict_integer_input', @() tconv_assert_error(@() predict(good, int8(x)), [P 'InvalidInput'], 'int8')
    'predict_5d_input', @() tconv_assert_error(@() predict(good, randn(2, 2, 3, 1, 2)), [P 'InvalidInput'])
    'backward_wrong_dy_size', @() tconv_assert_error(@() backward(good, x, randn(4, 4, 2)), 'tconv:mex:InvalidSize', 'dLdY', '5x5x2')
    'initialize_bad_input_size', @() tconv_assert_error(@() initialize(L(3, 4), [4 0 3]), [P 'InvalidInputSize'], 'InputSize', '[4 0 3]')
    'initialize_bad_seed', @() tconv_assert_error(@() initialize(L(3, 4), [4 4 3], 'Seed', -1), [P 'InvalidSeed'], 'Seed', '-1')
    % sgdmupdate
    'sgdm_negative_learn_rate', @() tconv_assert_error(@() sgdmupdate(good, good.Weights, good.Bias, [], -1), [S 'InvalidLearnRate'], 'LearnRate', '-1')
    'sgdm_momentum_one', @() tconv_assert_error(@() sgdmupdate(good, good.Weights, good.Bias, [], 0.1, 1), [S 'InvalidMomentum'], 'Momentum', '1')
    'sgdm_negative_l2', @() tconv_assert_error(@() sgdmupdate(good, good.Weights, good.Bias, [], 0.1, 0.9, -1), [S 'InvalidL2Regularization'], 'L2Regularization', '-1')
    'sgdm_not_initialized', @() tconv_assert_error(@() sgdmupdate(L(2, 2), 1, 1, []), [S 'NotInitialized'])
    'sgdm_bad_velocity', @() tconv_assert_error(@() sgdmupdate(good, good.Weights, good.Bias, 5), [S 'InvalidVelocity'], 'vel')
    'sgdm_gradient_wrong_size', @() tconv_assert_error(@() sgdmupdate(good, ones(2, 2), good.Bias, []), 'tconv:mex:InvalidSize', 'dLdW')
    % dltranspconv
    'dl_stride_zero', @() tconv_assert_error(@() dltranspconv(x, w, 0, 'Stride', 0), [D 'InvalidStride'], 'Stride', '0')
    'dl_dilation_fraction', @() tconv_assert_error(@() dltranspconv(x, w, 0, 'DilationFactor', 0.5), [D 'InvalidDilationFactor'], 'DilationFactor', '0.5')
    'dl_cropping_three', @() tconv_assert_error(@() dltranspconv(x, w, 0, 'Cropping', [1 1 1]), [D 'InvalidCropping'], 'Cropping', '[1 1 1]')
    'dl_groups_disagree', @() tconv_assert_error(@() dltranspconv(x, w, 0, 'NumGroups', 3), [D 'InvalidNumGroups'], 'NumGroups', '3')
    'dl_channels_disagree', @() tconv_assert_error(@() dltranspconv(randn(4, 4, 2), w, 0), [D 'NumChannelsMismatch'], '2', '3')
    'dl_bias_wrong_count', @() tconv_assert_error(@() dltranspconv(x, w, [1 2 3]), [D 'InvalidBias'], 'bias', '[1 2 3]')
    'dl_weights_text', @() tconv_assert_error(@() dltranspconv(x, 'w', 0), [D 'InvalidWeights'], 'weights')
    'dl_input_cell', @() tconv_assert_error(@() dltranspconv({x}, w, 0), [D 'InvalidInput'], 'cell')
    'dl_unknown_name', @() tconv_assert_error(@() dltranspconv(x, w, 0, 'Padding', 1), [D 'UnknownParameter'], '''Padding''')
  };
end
